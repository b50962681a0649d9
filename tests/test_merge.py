"""merge_streams interleaves live inputs by arrival and prefixes their route codes."""

from __future__ import annotations

import io
import os
import threading
import time

import pytest
import testtools
from recorders import FULL, FULL_PRE_21, OldRecorder, Recorder

from subunit2 import StreamResult, StreamWriter, encode
from subunit2.merge import RoutePrefixer, merge_streams, prefix_route

WAIT = 30.0  # generous: only reached when something is broken


class Collector(Recorder):
    """Records events and the threads it was called from; signals per test id."""

    def __init__(self):
        super().__init__()
        self.threads = set()
        self._seen = {}
        self._lock = threading.Lock()

    def seen(self, test_id):
        with self._lock:
            return self._seen.setdefault(test_id, threading.Event())

    def status(self, **kwargs):
        self.threads.add(threading.get_ident())
        super().status(**kwargs)
        if kwargs["test_id"] is not None:
            self.seen(kwargs["test_id"]).set()

    def tests(self):
        return [(e["test_id"], e["route_code"]) for e in self.events if e["test_id"]]

    def text(self, route_code):
        return b"".join(
            e["file_bytes"]
            for e in self.events
            if e["test_id"] is None and e["route_code"] == route_code
        )


def packets(*events):
    return b"".join(encode(**kwargs) for kwargs in events)


def start_writer(script, collector, problems):
    """A thread writing ``script`` into a new pipe; returns the read end as a file.

    Script steps: a dict is written as a packet, bytes are written raw, and a str
    waits until the merged result has seen that test id.
    """
    read_fd, write_fd = os.pipe()

    def run():
        with open(write_fd, "wb", buffering=0) as pipe:
            writer = StreamWriter(pipe)
            for step in script:
                if isinstance(step, str):
                    if not collector.seen(step).wait(WAIT):
                        problems.append(f"timed out waiting for {step}")
                        return
                elif isinstance(step, bytes):
                    pipe.write(step)
                else:
                    writer.status(**step)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return open(read_fd, "rb"), thread


def test_prefix_route():
    assert prefix_route(0, None) == "0"
    assert prefix_route(0, "3") == "0/3"
    assert prefix_route("2", "a/b") == "2/a/b"
    assert prefix_route(1, "") == "1"


def test_live_pipes_interleave_in_arrival_order_with_prefixed_route_codes():
    collector, problems = Collector(), []
    source0, writer0 = start_writer(
        [
            dict(test_id="a1", test_status="success"),
            "b1",
            dict(test_id="a2", test_status="success", route_code="3"),
        ],
        collector,
        problems,
    )
    source1, writer1 = start_writer(
        [
            "a1",
            dict(test_id="b1", test_status="inprogress"),
            b"hello from 1\n",
            "a2",
            dict(test_id="b2", test_status="fail", route_code="x/y"),
        ],
        collector,
        problems,
    )
    with source0, source1:
        merge_streams([source0, source1], collector)
    writer0.join(WAIT)
    writer1.join(WAIT)
    assert problems == []
    # Input 1's first event arrives while input 0 is still open, and input 0's
    # second event only after it: not one stream after another.
    assert collector.tests() == [
        ("a1", "0"),
        ("b1", "1"),
        ("a2", "0/3"),
        ("b2", "1/x/y"),
    ]
    assert collector.text("1") == b"hello from 1\n"
    assert collector.text("0") == b""
    order = [e["test_id"] or e["file_name"] for e in collector.events]
    assert order.index("b1") < order.index("stdout") < order.index("b2")
    assert collector.threads == {threading.get_ident()}


def test_every_field_survives_the_merge_and_only_route_code_changes():
    collector = Collector()
    merge_streams([io.BytesIO(), io.BytesIO(packets(FULL))], collector)
    assert collector.events == [dict(FULL, route_code="1/0/1")]


def test_testtools_target_gets_everything_but_parent():
    old = OldRecorder()
    merge_streams([io.BytesIO(packets(FULL))], old)
    assert old.events == [dict(FULL_PRE_21, route_code="0/0/1")]


def test_testtools_stream_to_dict_sees_tests_from_each_input_apart():
    tests = []
    result = testtools.StreamToDict(tests.append)
    same_test = dict(test_id="t", test_status="success", parent_test_id="p")
    result.startTestRun()
    merge_streams(
        [io.BytesIO(packets(same_test)), io.BytesIO(packets(same_test))], result
    )
    result.stopTestRun()
    assert sorted(t["id"] for t in tests) == ["t", "t"]
    assert all(t["status"] == "success" for t in tests)


def test_non_subunit_data_keeps_its_place_and_gets_the_input_route_code():
    data = b"before\n" + packets(dict(test_id="t", test_status="success")) + b"after"
    collector = Collector()
    merge_streams([io.BytesIO(b"x"), io.BytesIO(data)], collector, "console")
    ones = [e for e in collector.events if e["route_code"] == "1"]
    assert [(e["test_id"], e["file_name"], e["file_bytes"]) for e in ones] == [
        (None, "console", b"before\n"),
        ("t", None, None),
        (None, "console", b"after"),
    ]
    assert collector.text("0") == b"x"


def test_non_subunit_name_none_drops_stray_bytes():
    collector = Collector()
    merge_streams([io.BytesIO(b"noise")], collector, None)
    assert collector.events == []


def test_truncated_packet_is_reported_on_its_inputs_route_only():
    good = packets(dict(test_id="t", test_status="success"))
    collector = Collector()
    merge_streams([io.BytesIO(good), io.BytesIO(good[:-3])], collector)
    assert ("t", "0") in collector.tests()
    assert ("subunit.parser", "1") in collector.tests()
    assert ("t", "1") not in collector.tests()
    failed = [e for e in collector.events if e["test_status"] == "fail"]
    assert [e["route_code"] for e in failed] == ["1"]


def test_short_reads_and_a_tiny_queue_lose_and_reorder_nothing():
    events = [dict(test_id=f"t{i}", test_status="success") for i in range(300)]
    collector = Collector()
    read_fd, write_fd = os.pipe()

    def write():
        with open(write_fd, "wb") as pipe:
            pipe.write(packets(*events))

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    with open(read_fd, "rb") as source:
        merge_streams([source], collector, read_size=7, queue_size=1)
    thread.join(WAIT)
    assert collector.tests() == [(f"t{i}", "0") for i in range(300)]


def test_file_descriptors_and_read_only_objects_are_accepted():
    class ReadOnly:
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def read(self, size):
            return self._data.read(min(size, 3))

    read_fd, write_fd = os.pipe()
    os.write(write_fd, packets(dict(test_id="fd", test_status="success")))
    os.close(write_fd)
    collector = Collector()
    try:
        merge_streams(
            [read_fd, ReadOnly(packets(dict(test_id="ro", test_status="skip")))],
            collector,
        )
    finally:
        os.close(read_fd)
    assert sorted(collector.tests()) == [("fd", "0"), ("ro", "1")]


def test_a_read_error_is_raised_after_the_other_inputs_finish():
    class Broken:
        def read1(self, size):
            raise OSError("input went away")

    collector = Collector()
    good = io.BytesIO(packets(dict(test_id="t", test_status="success")))
    with pytest.raises(OSError, match="input went away"):
        merge_streams([Broken(), good], collector)
    assert collector.tests() == [("t", "1")]


def test_an_exception_from_the_result_propagates_without_hanging():
    class Refuses(StreamResult):
        def status(self, **kwargs):
            raise RuntimeError("no thanks")

    read_fd, write_fd = os.pipe()  # a live input that has not ended
    live = open(read_fd, "rb")
    try:
        with pytest.raises(RuntimeError, match="no thanks"):
            merge_streams([io.BytesIO(b"text"), live], Refuses())
    finally:
        # End the input first: its abandoned reader holds the file until then.
        os.close(write_fd)
        live.close()


def test_no_inputs_returns_at_once():
    collector = Collector()
    merge_streams([], collector)
    assert collector.events == []


def test_route_prefixer_prefixes_and_keeps_every_other_field():
    collector, old = Collector(), OldRecorder()
    RoutePrefixer(collector, 4).status(**FULL)
    RoutePrefixer(old, "w").status(**dict(FULL, route_code=None))
    assert collector.events == [dict(FULL, route_code="4/0/1")]
    assert old.events == [dict(FULL_PRE_21, route_code="w")]


def test_route_prefixer_forwards_start_and_stop():
    target = Recorder()
    prefixer = RoutePrefixer(target, 0)
    prefixer.startTestRun()
    prefixer.stopTestRun()
    assert target.log == [("r", "start"), ("r", "stop")]


def test_a_non_blocking_input_is_waited_on_not_taken_for_ended():
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)

    def produce():
        with os.fdopen(write_fd, "wb", buffering=0) as sink:
            sink.write(encode(test_id="early"))
            time.sleep(0.05)  # the merger finds the pipe empty, not closed
            sink.write(encode(test_id="late"))

    writer = threading.Thread(target=produce)
    writer.start()
    recorder = Recorder()
    with os.fdopen(read_fd, "rb", buffering=0) as source:
        merge_streams([source], recorder)
    writer.join()
    assert [(e["test_id"], e["route_code"]) for e in recorder.events] == [
        ("early", "0"),
        ("late", "0"),
    ]
