"""V1Parser: the v1 text protocol read into v2 events, including malformed input."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subunit2 import StreamResult
from subunit2.encoder import encode
from subunit2.v1_reader import V1Parser, read_v1

UTC = datetime.timezone.utc
T1 = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
T2 = datetime.datetime(2024, 1, 2, 3, 4, 6, 500000, tzinfo=UTC)


class Events(StreamResult):
    """Keeps each event as a dict of the fields that differ from the defaults."""

    def __init__(self):
        self.events = []

    def status(self, **kwargs):
        self.events.append(
            {k: v for k, v in kwargs.items() if v is not None and v is not False}
        )


def parse(data: bytes, cuts=(), **kwargs):
    """(events, errors) of ``data`` fed in pieces split at ``cuts``."""
    result = Events()
    errors = []
    parser = V1Parser(result, on_error=lambda n, m: errors.append((n, m)), **kwargs)
    last = 0
    for cut in sorted(set(cuts)) + [len(data)]:
        parser.feed(data[last:cut])
        last = cut
    parser.close()
    assert parser.errors == len(errors)
    return result.events, errors


def text_of(events) -> bytes:
    return b"".join(e["file_bytes"] for e in events if "test_id" not in e)


def records(events):
    """Per test id: statuses, last tags, final timestamp and attachments."""
    tests = {}
    for e in events:
        if "test_id" not in e:
            continue
        t = tests.setdefault(
            e["test_id"], {"statuses": [], "tags": None, "time": None, "files": {}}
        )
        if "test_status" in e:
            t["statuses"].append(e["test_status"])
            t["time"] = e.get("timestamp")
        if "test_tags" in e:
            t["tags"] = e["test_tags"]
        if "file_name" in e:
            name, mime = e["file_name"], e.get("mime_type")
            old = t["files"].get(name, (mime, b""))
            t["files"][name] = (mime, old[1] + e["file_bytes"])
    return tests


def test_every_outcome_keyword_maps_to_its_v2_status():
    lines = []
    expected = {}
    for n, (word, status) in enumerate(
        [
            ("success", "success"),
            ("success:", "success"),
            ("successful", "success"),
            ("successful:", "success"),
            ("failure:", "fail"),
            ("failure", "fail"),
            ("error:", "fail"),
            ("error", "fail"),
            ("skip:", "skip"),
            ("skip", "skip"),
            ("xfail:", "xfail"),
            ("xfail", "xfail"),
            ("uxsuccess:", "uxsuccess"),
            ("uxsuccess", "uxsuccess"),
        ]
    ):
        start = ["test:", "test", "testing:", "testing"][n % 4]
        lines.append(f"{start} t{n}\n{word} t{n}\n")
        expected[f"t{n}"] = ["inprogress", status]
    events, errors = parse("".join(lines).encode())
    assert errors == []
    assert {k: v["statuses"] for k, v in records(events).items()} == expected


def test_bracketed_details_become_an_attachment_named_for_the_outcome():
    data = (
        b"test: a\nfailure: a [\nTraceback\n ]quoted\n]\n"
        b"test: b\nskip: b [\nno db\n]\n"
        b"test: c\nsuccess: c [\nnote\n]\n"
        b"test: d\nxfail: d [\n]\n"
    )
    events, errors = parse(data)
    assert errors == []
    tests = records(events)
    assert tests["a"]["files"] == {
        "traceback": ("text/x-traceback;charset=utf8", b"Traceback\n]quoted\n")
    }
    assert tests["b"]["files"] == {"reason": ("text/plain", b"no db\n")}
    assert tests["c"]["files"] == {"message": ("text/plain", b"note\n")}
    assert tests["d"]["files"] == {"traceback": ("text/x-traceback;charset=utf8", b"")}
    assert [tests[t]["statuses"][-1] for t in "abcd"] == [
        "fail",
        "skip",
        "success",
        "xfail",
    ]


def test_multipart_details_keep_names_types_and_binary_bytes():
    body = b"line\n]\n\x00\xff\r\n"
    data = (
        b"test: a\nfailure: a [ multipart\n"
        b"Content-Type: text/plain;charset=utf8\ntraceback\n"
        + b"%X\r\n" % len(body)
        + body
        + b"3\r\nabc0\r\n"
        + b"Content-Type: application/octet-stream\nblob\n"
        + b"2\nhi0\n"  # bare LF after the size is accepted too
        + b"]\n"
    )
    events, errors = parse(data)
    assert errors == []
    tests = records(events)
    assert tests["a"]["files"] == {
        "traceback": ("text/plain;charset=utf8", body + b"abc"),
        "blob": ("application/octet-stream", b"hi"),
    }
    assert tests["a"]["statuses"] == ["inprogress", "fail"]
    eofs = [e["file_name"] for e in events if e.get("eof")]
    assert eofs == ["traceback", "blob"]


def test_time_stamps_following_events_and_tags_apply_to_run_or_test():
    data = (
        b"time: 2024-01-02 03:04:05Z\n"
        b"tags: run -gone\n"
        b"test: a\ntags: own -run\n"
        b"time: 2024-01-02T03:04:06.5Z\n"
        b"success: a\n"
        b"test: b\nsuccess: b\n"
    )
    events, errors = parse(data)
    assert errors == []
    assert events[0] == {
        "test_id": "a",
        "test_status": "inprogress",
        "test_tags": {"own"},
        "timestamp": T1,
    }
    assert events[1]["test_status"] == "success"
    assert events[1]["timestamp"] == T2
    assert events[1]["test_tags"] == {"own"}
    # The test's own changes end with it; the run's tags apply to the next test.
    assert events[3]["test_tags"] == {"run"}


def test_valid_progress_lines_are_dropped_and_nothing_else_is():
    data = b"progress: 3\nprogress: +2\nprogress: -1\nprogress: push\nprogress: pop\n"
    events, errors = parse(data)
    assert (events, errors) == ([], [])


def test_non_v1_lines_pass_through_in_order_between_test_events():
    data = b"hello\ntest: a\nprinted by a\nsuccess: a\n  test: indented\nbye"
    events, errors = parse(data)
    assert errors == []
    seen = []
    for e in events:
        if "test_id" in e:
            seen.append(e["test_status"])
        elif seen and isinstance(seen[-1], bytes):
            seen[-1] += e["file_bytes"]
        else:
            seen.append(e["file_bytes"])
    assert seen == [
        b"hello\n",
        "inprogress",
        b"printed by a\n",
        "success",
        b"  test: indented\nbye",
    ]
    assert all(e["file_name"] == "stdout" for e in events if "test_id" not in e)


@pytest.mark.parametrize(
    "line, why",
    [
        (b"time: yesterday\n", "bad time"),
        (b"time: 2024-13-02 03:04:05Z\n", "bad time"),
        (b"time: 1960-01-01 00:00:00Z\n", "outside 1970..2106"),
        (b"progress: lots\n", "bad progress"),
        (b"progress: +\n", "bad progress"),
        (b"success: nobody\n", "outside a test"),
        (b"test: \xff\xfe\n", "not valid UTF-8"),
        (b"test: a\x00b\n", "NUL"),
        (b"tags: \xff\n", "not valid UTF-8"),
    ],
)
def test_malformed_lines_are_passed_through_and_reported(line, why):
    data = b"test: a\nsuccess: a\n" + line + b"test: b\nsuccess: b\n"
    events, errors = parse(data)
    assert text_of(events) == line
    assert len(errors) == 1
    assert errors[0][0] == 3
    assert why in errors[0][1]
    assert [v["statuses"] for v in records(events).values()] == [
        ["inprogress", "success"],
        ["inprogress", "success"],
    ]


def test_outcome_for_another_test_and_a_nested_test_line_are_reported():
    data = b"test: a\nsuccess: b\ntest: c\nsuccess: a\n"
    events, errors = parse(data)
    assert text_of(events) == b"success: b\ntest: c\n"
    assert [n for n, _ in errors] == [2, 3]
    assert records(events)["a"]["statuses"] == ["inprogress", "success"]


def test_bad_chunk_header_ends_the_part_and_the_rest_is_recovered():
    data = (
        b"test: a\nfailure: a [ multipart\n"
        b"Content-Type: text/plain\ntraceback\n3\r\nabcZZ not hex\r\n"
        b"Content-Type: text/plain\nlog\n2\r\nhi0\r\n]\n"
        b"test: b\nsuccess: b\n"
    )
    events, errors = parse(data)
    assert len(errors) == 1 and "bad chunk header" in errors[0][1]
    assert text_of(events) == b"ZZ not hex\r\n"
    tests = records(events)
    assert tests["a"]["files"] == {
        "traceback": ("text/plain", b"abc"),
        "log": ("text/plain", b"hi"),
    }
    assert tests["a"]["statuses"] == ["inprogress", "fail"]
    assert tests["b"]["statuses"] == ["inprogress", "success"]


def test_details_cut_short_by_a_directive_end_there():
    data = (
        b"test: a\nfailure: a [ multipart\n"
        b"Content-Type: text/plain\ntraceback\n2\r\nhi"
        b"test: b\nsuccess: b\n"
    )
    events, errors = parse(data)
    assert [m for _, m in errors] == [
        "bad chunk header b'test: b\\n' in attachment 'traceback' of test 'a'",
        "details of test 'a' not terminated by ']'",
    ]
    tests = records(events)
    assert tests["a"]["statuses"] == ["inprogress", "fail"]
    assert tests["b"]["statuses"] == ["inprogress", "success"]


def test_truncated_multipart_fails_the_test_and_keeps_the_bytes_it_had():
    data = (
        b"test: a\nfailure: a [ multipart\n"
        b"Content-Type: text/plain\nlog\n10\r\nonly this"
    )
    events, errors = parse(data)
    assert [m for _, m in errors] == ["input ended inside details of test 'a'"]
    tests = records(events)
    assert tests["a"]["files"]["log"] == ("text/plain", b"only this")
    assert tests["a"]["statuses"] == ["inprogress", "fail"]
    assert b"lost connection" in tests["a"]["files"]["traceback"][1]


def test_input_ending_inside_a_test_fails_it():
    events, errors = parse(b"test: a\n")
    assert records(events)["a"]["statuses"] == ["inprogress", "fail"]
    assert [m for _, m in errors] == ["input ended inside test 'a'"]


def test_binary_junk_is_passed_through_byte_for_byte():
    junk = bytes(range(256)) * 8 + b"\xb3\x29\x01\x0c\n\xff"
    events, errors = parse(junk, cuts=range(0, len(junk), 97))
    assert errors == []
    assert text_of(events) == junk
    assert all("test_id" not in e for e in events)


def test_overlong_lines_are_passed_through_in_bounded_pieces():
    line = b"x" * 5000 + b"\n"
    events, errors = parse(line * 3, cuts=range(0, 15003, 1000), max_line=1024)
    assert errors == []
    assert text_of(events) == line * 3
    assert max(len(e["file_bytes"]) for e in events) <= 2048


def test_large_attachment_is_sent_in_pieces_not_held_whole():
    body = b"y" * 300_000
    data = (
        b"test: a\nfailure: a [ multipart\nContent-Type: text/plain\nbig\n"
        + b"%X\r\n" % len(body)
        + body
        + b"0\r\n]\n"
    )
    events, _ = parse(data, cuts=range(0, len(data), 4096))
    pieces = [e for e in events if e.get("file_name") == "big"]
    assert len(pieces) > 2
    assert max(len(e["file_bytes"]) for e in pieces) <= 65536 + 4096
    assert b"".join(e["file_bytes"] for e in pieces) == body


V1_SAMPLE = (
    b"time: 2024-01-02 03:04:05Z\n"
    b"tags: run\n"
    b"test: a\ntags: x\nout\n"
    b"failure: a [ multipart\nContent-Type: text/plain\nlog\n5\r\nhello0\r\n]\n"
    b"progress: bad\n"
    b"test: b\nskip: b [\nwhy\n]\n"
    b"test: c\nsuccess: c\n"
)


@given(st.lists(st.integers(0, len(V1_SAMPLE)), max_size=8))
def test_feeding_in_any_pieces_gives_the_same_results(cuts):
    whole, whole_errors = parse(V1_SAMPLE)
    pieces, errors = parse(V1_SAMPLE, cuts=cuts)
    assert records(pieces) == records(whole)
    assert text_of(pieces) == text_of(whole)
    assert errors == whole_errors


KEYWORDS = [
    b"test",
    b"success",
    b"failure",
    b"error",
    b"skip",
    b"xfail",
    b"tags",
    b"time",
    b"progress",
]
V1_WORDS = [
    b"test: a\n",
    b"test: b\n",
    b"success: a\n",
    b"failure: a [\n",
    b"error: a [ multipart\n",
    b"Content-Type: text/plain\n",
    b"name\n",
    b"5\r\n",
    b"0\r\n",
    b"zz\r\n",
    b"]\n",
    b" ]\n",
    b"tags: x -y\n",
    b"time: 2024-01-02 03:04:05Z\n",
    b"time: junk\n",
    b"progress: push\n",
    b"\xff\x00\n",
    b"abc",
]


@given(
    st.lists(st.sampled_from(V1_WORDS) | st.binary(max_size=8), max_size=30),
    st.lists(st.integers(0, 400), max_size=6),
)
def test_never_raises_never_loses_text_and_ignores_read_boundaries(parts, cuts):
    data = b"".join(parts)
    events, errors = parse(data)
    # Every event is well formed for a v2 encoder.
    for e in events:
        encode(**e)
    if not any(word in data for word in KEYWORDS):
        assert text_of(events) == data
    pieces, piece_errors = parse(data, cuts=[c for c in cuts if c <= len(data)])
    assert records(pieces) == records(events)
    assert text_of(pieces) == text_of(events)
    assert piece_errors == errors


def test_read_v1_reads_a_file_object(tmp_path):
    path = tmp_path / "v1.txt"
    path.write_bytes(V1_SAMPLE)
    result = Events()
    with open(path, "rb") as source:
        parser = read_v1(source, result)
    assert parser.errors == 1
    assert records(result.events) == records(parse(V1_SAMPLE)[0])
