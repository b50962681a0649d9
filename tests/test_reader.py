"""read_stream and read_stream_async drive real sources into results."""

from __future__ import annotations

import asyncio
import io
import os
import random
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from recorders import OldRecorder, events_of
from strategies import Recorder, ev_bytes, events, merge_text

from subunit2 import (
    Event,
    decode_bytes,
    deliver_all,
    encode,
    read_stream,
    read_stream_async,
)

SAMPLE_EVENTS = [
    Event(test_id="a", test_status="inprogress", test_tags={"x", "y"}),
    Event(test_id="a", file_name="stdout", file_bytes=b"\xb3\xff\x00 bin"),
    Event(test_id="a (i=1)", test_status="fail", parent_test_id="a", runnable=False),
    Event(test_id="a", test_status="success", route_code="0/1", eof=True),
]
# Non-subunit bytes that are not UTF-8, between packets.
SAMPLE = (
    b"starting \xff\xfe\n"
    + b"".join(ev_bytes(e) for e in SAMPLE_EVENTS[:2])
    + b"chatter\n"
    + b"".join(ev_bytes(e) for e in SAMPLE_EVENTS[2:])
    + b"done\n"
)


def read_into_recorder(source, **kwargs):
    recorder = Recorder()
    read_stream(source, recorder, **kwargs)
    return recorder


def test_read_stream_decodes_a_binary_file(tmp_path):
    path = tmp_path / "stream.subunit"
    path.write_bytes(SAMPLE)
    with open(path, "rb") as source:
        recorder = read_into_recorder(source)
    assert merge_text(recorder.events) == merge_text(decode_bytes(SAMPLE))
    assert [e for e in recorder.events if e.test_id] == SAMPLE_EVENTS


def test_read_stream_uses_the_buffer_of_a_text_mode_file(tmp_path):
    path = tmp_path / "stream.subunit"
    path.write_bytes(SAMPLE)
    with open(path, encoding="utf-8") as source:
        recorder = read_into_recorder(source)
    assert merge_text(recorder.events) == merge_text(decode_bytes(SAMPLE))


def test_read_stream_does_not_bracket_the_run():
    recorder = read_into_recorder(io.BytesIO(SAMPLE))
    assert "startTestRun" not in recorder.calls
    assert "stopTestRun" not in recorder.calls


class ReadOnly:
    """A source with only read(), returning short reads of random sizes."""

    def __init__(self, data: bytes, seed: int) -> None:
        self.data = data
        self.pos = 0
        self.rng = random.Random(seed)
        self.sizes = []

    def read(self, size=-1):
        short = self.rng.randint(1, 7)
        size = short if size < 0 else min(size, short)
        chunk = self.data[self.pos : self.pos + size]
        self.pos += len(chunk)
        self.sizes.append(len(chunk))
        return chunk


@given(st.lists(events(), max_size=6), st.integers(0, 1000))
def test_read_stream_takes_short_reads_from_a_read_only_source(batch, seed):
    data = b"".join(ev_bytes(e) for e in batch)
    source = ReadOnly(data, seed)
    recorder = read_into_recorder(source)
    assert recorder.events == batch
    assert source.pos == len(data)


def test_read_stream_stops_at_the_first_empty_read():
    source = ReadOnly(SAMPLE, 1)
    recorder = read_into_recorder(source)
    assert source.sizes[-1] == 0
    assert source.sizes.count(0) == 1
    assert merge_text(recorder.events) == merge_text(decode_bytes(SAMPLE))


def _pipe_writer(fd, data, rng, gate=None, outcome=None):
    with os.fdopen(fd, "wb", buffering=0) as sink:
        pos = 0
        while pos < len(data):
            if gate is not None and pos == gate[0]:
                opened = gate[1].wait(30)
                if outcome is not None:
                    outcome.append(opened)
                if not opened:
                    return  # the reader never saw the first packet: give up
            size = rng.randint(1, 5)
            if gate is not None and pos < gate[0]:
                size = min(size, gate[0] - pos)
            sink.write(data[pos : pos + size])
            pos += size
            if rng.random() < 0.05:
                time.sleep(0.001)


@pytest.mark.parametrize("buffering", [-1, 0], ids=["buffered", "raw"])
def test_read_stream_decodes_a_pipe_written_in_tiny_pieces(buffering):
    read_fd, write_fd = os.pipe()
    writer = threading.Thread(
        target=_pipe_writer, args=(write_fd, SAMPLE, random.Random(buffering))
    )
    writer.start()
    try:
        with os.fdopen(read_fd, "rb", buffering=buffering) as source:
            recorder = read_into_recorder(source, read_size=4096)
    finally:
        writer.join(10)
    assert merge_text(recorder.events) == merge_text(decode_bytes(SAMPLE))


def test_read_stream_delivers_events_while_the_pipe_is_still_open():
    # The writer holds back the rest of the stream until the reader has delivered
    # the first packet: a reader that waited to fill its read size would hang.
    first = encode(test_id="first", test_status="inprogress")
    rest = encode(test_id="first", test_status="success")
    seen = threading.Event()

    class Watcher(Recorder):
        def status(self, **kwargs):
            super().status(**kwargs)
            if kwargs.get("test_id") == "first":
                seen.set()

    read_fd, write_fd = os.pipe()
    gate = (len(first), seen)
    outcome = []
    writer = threading.Thread(
        target=_pipe_writer,
        args=(write_fd, first + rest, random.Random(3), gate, outcome),
    )
    writer.start()
    watcher = Watcher()
    try:
        with os.fdopen(read_fd, "rb") as source:
            read_stream(source, watcher)
    finally:
        writer.join(10)
    assert outcome == [True], "the first packet was not delivered while it waited"
    assert watcher.events == decode_bytes(first + rest)


async def _read_async(chunks, **kwargs):
    reader = asyncio.StreamReader()
    recorder = Recorder()

    async def produce():
        for chunk in chunks:
            reader.feed_data(chunk)
            await asyncio.sleep(0)
        reader.feed_eof()

    await asyncio.gather(produce(), read_stream_async(reader, recorder, **kwargs))
    return recorder


@given(st.lists(events(), max_size=5), st.data())
def test_read_stream_async_decodes_a_stream_reader(batch, data):
    stream = b"noise\n" + b"".join(ev_bytes(e) for e in batch)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(stream) - 1)))))
    bounds = [0] + cuts + [len(stream)]
    chunks = [stream[a:b] for a, b in zip(bounds, bounds[1:])]
    recorder = asyncio.run(_read_async(chunks))
    assert merge_text(recorder.events) == merge_text(decode_bytes(stream))


def test_read_stream_async_with_a_small_read_size():
    recorder = asyncio.run(_read_async([SAMPLE], read_size=3))
    assert merge_text(recorder.events) == merge_text(decode_bytes(SAMPLE))


def test_read_stream_async_can_drop_non_subunit_data():
    recorder = asyncio.run(_read_async([SAMPLE], non_subunit_name=None))
    assert recorder.events == SAMPLE_EVENTS


def test_non_subunit_name_none_drops_non_subunit_data():
    recorder = read_into_recorder(io.BytesIO(SAMPLE), non_subunit_name=None)
    assert recorder.events == SAMPLE_EVENTS


def test_non_subunit_name_names_the_non_subunit_data():
    recorder = read_into_recorder(io.BytesIO(SAMPLE), non_subunit_name="stderr")
    text = [e for e in recorder.events if e.test_id is None]
    assert text and all(e.file_name == "stderr" for e in text)
    assert b"".join(e.file_bytes for e in text) == b"starting \xff\xfe\nchatter\ndone\n"


def test_read_stream_withholds_the_parent_from_a_testtools_result():
    old = OldRecorder()
    read_stream(io.BytesIO(SAMPLE), old, non_subunit_name=None)
    expected = [e._replace(parent_test_id=None) for e in SAMPLE_EVENTS]
    assert events_of(old) == expected


def test_read_stream_gives_the_parent_to_a_2_1_result():
    recorder = read_into_recorder(io.BytesIO(SAMPLE), non_subunit_name=None)
    assert [e.parent_test_id for e in recorder.events] == [None, None, "a", None]


def test_deliver_all_replays_every_field():
    recorder = Recorder()
    deliver_all(SAMPLE_EVENTS, recorder)
    assert recorder.events == SAMPLE_EVENTS


def test_read_stream_waits_on_a_non_blocking_pipe_instead_of_stopping():
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    first, second = encode(test_id="first"), encode(test_id="second")

    def produce():
        with os.fdopen(write_fd, "wb", buffering=0) as sink:
            sink.write(first)
            time.sleep(0.05)  # the reader finds the pipe empty, not closed
            sink.write(second)

    writer = threading.Thread(target=produce)
    writer.start()
    recorder = Recorder()
    with os.fdopen(read_fd, "rb", buffering=0) as source:
        read_stream(source, recorder)
    writer.join()
    assert [e.test_id for e in recorder.events] == ["first", "second"]
