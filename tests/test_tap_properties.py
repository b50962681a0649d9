"""tap2subunit on arbitrary input: no crash, nothing lost, no leftovers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from test_tap import convert, outcome, passthrough, records

TAP_LINES = [
    b"TAP version 14",
    b"TAP version 13",
    b"1..3",
    b"1..0 # skip nothing to do",
    b"ok",
    b"not ok",
    b"ok 1 - a",
    b"ok 1 - a",
    b"not ok 2 - b # TODO t",
    b"ok 3 # SKIP s",
    b"ok 4 - x \\# y # time=1ms",
    b"  ---",
    b"  key: value",
    b"  ...",
    b"      ---",
    b"      deep: 1",
    b"      ...",
    b"Bail out! stop",
    b"pragma +strict",
    b"# Subtest: s",
    b"    # Subtest: inner",
    b"    ok 1 - c",
    b"    not ok 2 - d",
    b"    1..2",
    b"        ok",
    b"        1..1",
    b"",
    b"   ",
]

tap_line = st.one_of(
    st.sampled_from(TAP_LINES),
    st.builds(
        lambda indent, tail: b" " * indent + tail,
        st.integers(0, 13),
        st.sampled_from(TAP_LINES),
    ),
)
# Lines that cannot be TAP (they start with "~"): they must pass through verbatim.
junk_line = st.binary(max_size=40).map(lambda b: b"~" + b.replace(b"\n", b" "))


@st.composite
def mixed_tap(draw):
    """TAP-ish lines with numbered junk and comment lines among them."""
    lines = []
    junk = []
    comments = []
    for kind in draw(st.lists(st.sampled_from("ttjc"), max_size=40)):
        if kind == "t":
            lines.append(draw(tap_line))
        elif kind == "j":
            line = draw(junk_line) + b" #%d" % len(junk)
            junk.append(line)
            lines.append(line)
        else:
            line = b"# note %d" % len(comments)
            comments.append(line)
            lines.append(line)
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = ending.join(lines) + (ending if draw(st.booleans()) else b"")
    return data, junk, comments


def attachments(events) -> bytes:
    return b"".join(e.file_bytes or b"" for e in events if e.test_id is not None)


@given(mixed_tap())
def test_junk_lines_pass_through_in_order_and_comments_are_never_lost(case):
    data, junk, comments = case
    events = convert(data)
    text = passthrough(events)
    position = 0
    for line in junk:
        found = text.find(line, position)
        assert found >= 0, line
        position = found + len(line)
    kept = text + attachments(events)
    for line in comments:
        assert line in kept


@given(mixed_tap())
def test_every_test_completes_and_ids_are_unique(case):
    events = convert(case[0])
    result = records(events)  # raises on two records for one id
    assert all(r.complete for r in result.values())


@given(mixed_tap(), st.integers(1, 50))
def test_how_the_input_is_cut_changes_nothing(case, chunk):
    data = case[0]
    whole = convert(data)
    part = convert(data, chunk=chunk)
    assert outcome(part) == outcome(whole)
    assert passthrough(part) == passthrough(whole)


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_and_text_only_input_is_kept_whole(data):
    events = convert(data)
    assert all(r.complete for r in records(events).values())
    if not any(
        line.lstrip(b" ").startswith((b"ok", b"not ok", b"1..", b"Bail", b"bail"))
        or line.lstrip(b" ").startswith((b"#", b"TAP", b"pragma", b"BAIL"))
        for line in data.split(b"\n")
    ):
        assert passthrough(events) == data


@given(st.lists(junk_line, max_size=30))
def test_input_with_no_tap_comes_out_byte_for_byte(lines):
    data = b"\n".join(lines)
    events = convert(data)
    assert passthrough(events) == data
    assert outcome(events) == {}
