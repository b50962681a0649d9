"""gojson2subunit on arbitrary input: no crash, nothing lost, nothing left unsaid."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from test_gojson import convert, passthrough, records

ACTIONS = [
    "start",
    "run",
    "pause",
    "cont",
    "output",
    "pass",
    "fail",
    "skip",
    "bench",
    "build-output",
    "build-fail",
]
TESTS = [None, "TestA", "TestA/sub", "TestA/sub/deep", "TestB", "TestA/other"]


@st.composite
def go_stream(draw):
    """test2json-shaped lines in any order, with numbered junk and output markers."""
    lines = []
    junk = []
    outputs = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from("eeeej"))
        if kind == "j":
            item = b"~" + draw(st.binary(max_size=30)).replace(b"\n", b" ")
            item += b" #%d" % len(junk)
            junk.append(item)
            lines.append(item)
            continue
        action = draw(st.sampled_from(ACTIONS))
        event = {"Action": action}
        if draw(st.booleans()):
            event["Time"] = draw(
                st.sampled_from(["2024-01-01T00:00:00.5Z", "garbage", "2024-99-99"])
            )
        if action.startswith("build"):
            event["ImportPath"] = draw(st.sampled_from(["p [p.test]", "q"]))
        else:
            package = draw(st.sampled_from(["p", "q", None]))
            if package is not None:
                event["Package"] = package
            test = draw(st.sampled_from(TESTS))
            if test is not None:
                event["Test"] = test
        if action in ("output", "build-output", "bench") and draw(st.booleans()):
            marker = f"out{len(outputs)}\n"
            outputs.append(marker.encode())
            event["Output"] = marker
        lines.append(json.dumps(event).encode())
    return b"\n".join(lines) + b"\n", junk, outputs


@given(go_stream())
def test_junk_passes_through_in_order_and_no_output_is_lost(case):
    data, junk, outputs = case
    events = convert(data)
    text = passthrough(events)
    position = 0
    for item in junk:
        found = text.find(item, position)
        assert found >= 0, item
        position = found + len(item)
    everything = b"".join(e.file_bytes or b"" for e in events)
    for marker in outputs:
        # As output, or inside a line passed through whole (an event with no
        # package and no test that is not plain output).
        assert marker in everything or marker[:-1] + b"\\n" in text


@given(go_stream())
def test_every_test_completes_or_says_why_not(case):
    for record in records(convert(case[0])):
        if not record.complete:
            note = record.attachments.get("reason")
            assert note is not None and b"incomplete" in note.content, record


@given(go_stream(), st.integers(1, 40))
def test_how_the_input_is_cut_changes_nothing(case, chunk):
    whole = convert(case[0])
    part = convert(case[0], chunk=chunk)
    assert [(r.test_id, r.status, r.parent_test_id) for r in records(part)] == [
        (r.test_id, r.status, r.parent_test_id) for r in records(whole)
    ]
    assert passthrough(part) == passthrough(whole)


@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash_and_non_json_comes_out_whole(data):
    events = convert(data)
    if b"{" not in data:
        assert passthrough(events) == data
