"""V1Writer: v2 events written as v1 text, and v2 -> v1 -> v2 round trips."""

from __future__ import annotations

import datetime
import io

from hypothesis import given
from hypothesis import strategies as st

from subunit2 import StreamResult, encode, v1_writer
from subunit2.v1_reader import V1Parser
from subunit2.v1_writer import V1Writer, convert_2to1

UTC = datetime.timezone.utc
T = [datetime.datetime(2024, 1, 2, 3, 4, 5, n, tzinfo=UTC) for n in range(10)]


def write(*events, flush=False) -> bytes:
    out = io.BytesIO()
    writer = V1Writer(out, flush=flush)
    writer.startTestRun()
    for event in events:
        writer.status(**event)
    writer.stopTestRun()
    return out.getvalue()


class Events(StreamResult):
    def __init__(self):
        self.events = []

    def status(self, **kwargs):
        self.events.append(
            {k: v for k, v in kwargs.items() if v is not None and v is not False}
        )


def read(data: bytes):
    result = Events()
    errors = []
    parser = V1Parser(result, on_error=lambda n, m: errors.append(m))
    parser.feed(data)
    parser.close()
    assert errors == []
    return result.events


def test_a_test_is_one_block_with_start_and_end_times_and_its_tags():
    data = write(
        dict(test_id="a", test_status="inprogress", timestamp=T[1], test_tags={"x"}),
        dict(test_id="a", test_status="success", timestamp=T[2], test_tags={"y", "x"}),
    )
    assert data == (
        b"time: 2024-01-02 03:04:05.000001Z\n"
        b"test: a\n"
        b"tags: x y\n"
        b"time: 2024-01-02 03:04:05.000002Z\n"
        b"success: a\n"
    )


def test_each_final_status_has_its_v1_outcome_and_unchanged_time_is_not_repeated():
    statuses = ["success", "fail", "skip", "xfail", "uxsuccess"]
    data = write(*(dict(test_id=s, test_status=s, timestamp=T[0]) for s in statuses))
    assert data == (
        b"test: success\ntime: 2024-01-02 03:04:05.000000Z\nsuccess: success\n"
        b"test: fail\nfailure: fail\n"
        b"test: skip\nskip: skip\n"
        b"test: xfail\nxfail: xfail\n"
        b"test: uxsuccess\nuxsuccess: uxsuccess\n"
    )


def test_attachments_become_multipart_details_in_arrival_order():
    data = write(
        dict(test_id="a", file_name="z", file_bytes=b"0123456789ABCDEF!"),
        dict(test_id="a", file_name="b", file_bytes=b"", mime_type="text/plain"),
        dict(test_id="a", file_name="z", file_bytes=b"]\n", eof=True),
        dict(test_id="a", test_status="fail"),
    )
    assert data == (
        b"test: a\nfailure: a [ multipart\n"
        b"Content-Type: application/octet-stream\nz\n"
        b"11\r\n0123456789ABCDEF!2\r\n]\n0\r\n"
        b"Content-Type: text/plain\nb\n0\r\n"
        b"]\n"
    )


def test_interleaved_tests_are_written_one_at_a_time_in_order_of_completion():
    data = write(
        dict(test_id="a", test_status="inprogress", route_code="0"),
        dict(test_id="a", test_status="inprogress", route_code="1"),
        dict(test_id="a", file_name="log", file_bytes=b"from 0", route_code="0"),
        dict(test_id="a", file_name="log", file_bytes=b"from 1", route_code="1"),
        dict(test_id="a", test_status="success", route_code="1"),
        dict(test_id="a", test_status="fail", route_code="0"),
    )
    assert data.count(b"test: a\n") == 2
    first, second = data.split(b"test: a\n")[1:]
    assert b"from 1" in first and b"success: a [ multipart" in first
    assert b"from 0" in second and b"failure: a [ multipart" in second


def test_what_v1_cannot_carry_is_dropped():
    data = write(
        dict(test_id="listed", test_status="exists", test_tags={"t"}),
        dict(
            test_id="sub",
            test_status="success",
            route_code="0/1",
            parent_test_id="parent",
            runnable=False,
            test_tags={"ok", "two words", "-dash", ""},
        ),
    )
    assert data == b"test: sub\ntags: ok\nsuccess: sub\n"


def test_tests_still_running_at_the_end_are_written_as_errors():
    data = write(
        dict(test_id="a", test_status="inprogress", timestamp=T[0]),
        dict(test_id="b", file_name="log", file_bytes=b"partial"),
    )
    events = read(data)
    finals = [(e["test_id"], e["test_status"]) for e in events if "test_status" in e]
    assert ("a", "fail") in finals and ("b", "fail") in finals
    assert b"error: a\n" in data
    assert b"error: b [ multipart" in data


def test_non_test_bytes_are_written_through_and_a_cut_line_is_ended():
    data = write(
        dict(file_name="stdout", file_bytes=b"one\ntwo"),
        dict(test_id="a", test_status="success"),
        dict(file_name="stderr", file_bytes=b"\xff\n"),
    )
    assert data == b"one\ntwo\ntest: a\nsuccess: a\n\xff\n"


def test_line_breaks_in_names_become_spaces():
    data = write(
        dict(
            test_id="a\nb",
            test_status="fail",
            file_name="x\r\ny",
            file_bytes=b"1",
            mime_type="text/plain\n",
        )
    )
    assert data == (
        b"test: a b\nfailure: a b [ multipart\n"
        b"Content-Type: text/plain \nx y\n1\r\n10\r\n]\n"
    )


def test_skip_reason_without_a_type_is_written_as_text():
    data = write(
        dict(test_id="a", test_status="skip", file_name="reason", file_bytes=b"no")
    )
    assert b"Content-Type: text/plain;charset=utf8\nreason\n" in data


def test_live_output_is_flushed_after_each_test():
    class Counting(io.BytesIO):
        flushes = 0

        def flush(self):
            self.flushes += 1

    out = Counting()
    writer = V1Writer(out, flush=True)
    writer.status(test_id="a", test_status="success")
    assert out.getvalue() == b"test: a\nsuccess: a\n" and out.flushes == 1


def test_large_attachments_spill_to_disk_and_come_back_whole(monkeypatch):
    monkeypatch.setattr(v1_writer, "SPOOL_LIMIT", 1000)
    chunks = [bytes([n]) * 700 for n in range(5)]
    events = [dict(test_id="a", file_name="big", file_bytes=c) for c in chunks]
    data = write(*events, dict(test_id="a", test_status="fail"))
    got = [e for e in read(data) if e.get("file_name") == "big"]
    assert b"".join(e["file_bytes"] for e in got) == b"".join(chunks)


def test_convert_2to1_reads_a_v2_stream_and_passes_non_subunit_bytes():
    stream = encode(test_id="a", test_status="inprogress") + b"noise\n"
    stream += encode(test_id="a", test_status="success", timestamp=T[3])
    out = io.BytesIO()
    convert_2to1(io.BytesIO(stream), out)
    assert out.getvalue() == (
        b"noise\ntest: a\ntime: 2024-01-02 03:04:05.000003Z\nsuccess: a\n"
    )


# -- v2 -> v1 -> v2 keeps what v1 can carry --------------------------------------

_NO_BREAKS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r\n")
ids = st.text(_NO_BREAKS, min_size=1, max_size=10).filter(
    lambda t: t.encode().strip() != b""
)
tags = st.text(_NO_BREAKS, min_size=1, max_size=6).filter(
    lambda t: t.split() == [t] and t[0] != "-"
)
mimes = st.sampled_from([None, "text/plain", "text/plain;charset=utf8", "image/png"])
times = st.datetimes(
    min_value=datetime.datetime(1970, 1, 1),
    max_value=datetime.datetime(2100, 1, 1),
    timezones=st.just(UTC),
)
finals = st.sampled_from(["success", "fail", "skip", "xfail", "uxsuccess"])


@st.composite
def runs(draw, mimes=mimes, names=ids):
    """Interleaved events of several tests, and what each test should read back as.

    ``mimes`` and ``names`` draw attachment types and names (python-subunit needs
    text parts, and skip reasons, to be UTF-8).
    """
    test_ids = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    plans = []
    expected = {}
    for test_id in test_ids:
        extra = dict(
            route_code=draw(st.none() | ids),
            parent_test_id=draw(st.none() | ids),
            runnable=draw(st.booleans()),
        )
        start, end = draw(times), draw(times)
        tag_sets = draw(st.lists(st.sets(tags, max_size=3), min_size=2, max_size=2))
        events = [
            dict(test_status="inprogress", timestamp=start, test_tags=tag_sets[0])
        ]
        files = {}
        for name, mime, data in draw(
            st.lists(st.tuples(names, mimes, st.binary(max_size=20)), max_size=3)
        ):
            if name in files:
                mime = files[name][0]
            events.append(dict(file_name=name, file_bytes=data, mime_type=mime))
            old = files.get(name, (mime, b""))
            files[name] = (old[0], old[1] + data)
        status = draw(finals)
        events.append(dict(test_status=status, timestamp=end, test_tags=tag_sets[1]))
        plans.append([dict(e, test_id=test_id, **extra) for e in events])
        expected[test_id] = dict(
            statuses=["inprogress", status],
            times=[start, end],
            tags=tag_sets[1] or None,
            files={
                name: (
                    mime
                    or (
                        "text/plain;charset=utf8"
                        if name == "reason"
                        else "application/octet-stream"
                    ),
                    data,
                )
                for name, (mime, data) in files.items()
            },
        )
    order = []
    while any(plans):
        pick = draw(st.sampled_from([p for p in plans if p]))
        order.append(pick.pop(0))
    return order, expected


@given(runs())
def test_round_trip_keeps_status_times_tags_and_attachments(run):
    events, expected = run
    got = {}
    for e in read(write(*events)):
        t = got.setdefault(
            e["test_id"], dict(statuses=[], times=[], tags=None, files={})
        )
        if "test_status" in e:
            t["statuses"].append(e["test_status"])
            t["times"].append(e.get("timestamp"))
            t["tags"] = e.get("test_tags") or None
        if "file_name" in e:
            mime, data = t["files"].get(e["file_name"], (e["mime_type"], b""))
            t["files"][e["file_name"]] = (mime, data + e["file_bytes"])
        assert "route_code" not in e and "parent_test_id" not in e
    assert got == expected
