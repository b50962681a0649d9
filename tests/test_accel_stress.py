"""The compiled codec under stress: lifetimes, re-entry, errors and odd arguments.

Each test drives ``subunit2._speedups`` directly (so it runs in the pure-Python CI
pass too) and compares it with the pure-Python codec: same events, same bytes, same
exception.  They are meant to fail loudly (or crash under ASan, see
``make -C c asan-python``) when a reference count or a buffer lifetime is wrong.
"""

from __future__ import annotations

import array
import datetime
import gc
import io
import random
import sys
import threading

import pytest

from subunit2 import EncodeError
from subunit2.decoder import PyDecoder
from subunit2.encoder import PyEncoder, py_encode
from subunit2.event import Event
from subunit2.event import deliver_all as py_deliver_all
from subunit2.writer import StreamWriter

speedups = pytest.importorskip("subunit2._speedups")

UTC = datetime.timezone.utc
START = datetime.datetime(2026, 1, 1, tzinfo=UTC)


def sample_stream(tests: int = 300) -> bytes:
    """Packets of every shape, with text, damaged packets and a long attachment."""
    out = [b"leading text \xc3\xa9\n"]
    for n in range(tests):
        worker = str(n % 4)
        when = START + datetime.timedelta(microseconds=1731 * n)
        tags = {f"worker-{worker}", "unit"}
        test_id = f"pkg.mod{n // 50}.Case.test_{n}"
        out.append(
            py_encode(test_id, "inprogress", tags, route_code=worker, timestamp=when)
        )
        if n % 37 == 5:
            out.append(b"\xb3\x20\x00\x10 a damaged candidate")
        if n % 41 == 7:
            out.append(
                py_encode(
                    test_id,
                    file_name="log",
                    file_bytes=b"x" * 70000,
                    mime_type="text/plain",
                    eof=True,
                    parent_test_id="pkg.parent",
                )
            )
        if n % 53 == 9:
            out.append(py_encode(test_id, file_name="tb", file_bytes=b"", eof=True))
        out.append(
            py_encode(
                test_id,
                "fail" if n % 20 == 19 else "success",
                tags,
                route_code=worker,
                timestamp=when,
                parent_test_id=None if n % 3 else "pkg.parent",
            )
        )
    good = py_encode("last", "success")
    out.append(good[: len(good) - 3])  # a truncated candidate at end of stream
    return b"".join(out)


STREAM = sample_stream()


def python_events(pieces, name="stdout") -> list:
    decoder = PyDecoder(name)
    events = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    return events + decoder.close()


EXPECTED = python_events([STREAM])


def compiled_events(pieces, name="stdout", collect_every: int = 0) -> list:
    decoder = speedups.Decoder(name)
    events = []
    for n, piece in enumerate(pieces):
        events.extend(decoder.feed(piece))
        if collect_every and n % collect_every == 0:
            gc.collect()
    events.extend(decoder.close())
    return events


def chunks(data: bytes, sizes) -> list:
    out, pos = [], 0
    for size in sizes:
        if pos >= len(data):
            break
        out.append(data[pos : pos + size])
        pos += size
    if pos < len(data):
        out.append(data[pos:])
    return out


def test_compiled_decoder_matches_python_on_the_sample_stream():
    assert compiled_events([STREAM]) == EXPECTED
    assert any(e.test_id == "subunit.parser" for e in EXPECTED)  # the sample is varied


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tiny_huge_and_random_feeds_give_the_same_events(seed):
    rng = random.Random(seed)
    sizes = [1] * 300 + [
        rng.choice((1, 2, 3, 7, 100, 5000, 200000)) for _ in range(400)
    ]
    pieces = chunks(STREAM, sizes)
    # Runs of text come out per feed, so the reference is fed the same pieces.
    assert compiled_events(pieces, collect_every=17) == python_events(pieces)


def test_bytes_bytearray_and_memoryviews_feed_alike():
    pieces = chunks(STREAM, [997] * 2000)
    kinds = [
        bytes,
        bytearray,
        memoryview,
        lambda b: memoryview(bytearray(b)),
        lambda b: memoryview(b + b"\0" * len(b))[: len(b)],
        lambda b: memoryview(bytes(x for pair in zip(b, b) for x in pair))[::2],
        lambda b: array.array("B", b),
    ]
    for kind in kinds:
        assert compiled_events([kind(p) for p in pieces]) == EXPECTED


def test_fed_buffers_may_change_or_die_after_feed_returns():
    # The decoder keeps the undecided tail itself, not a pointer into the caller's
    # buffer: scribbling over and freeing each buffer after feed() changes nothing.
    decoder = speedups.Decoder()
    events = []
    for piece in chunks(STREAM, [333] * 5000):
        buf = bytearray(piece)
        events.extend(decoder.feed(buf))
        buf[:] = b"\xb3" * len(buf)
        del buf
        gc.collect(0)
    events.extend(decoder.close())
    assert events == EXPECTED


def test_events_kept_or_dropped_between_feeds_decode_the_same():
    kept = compiled_events(chunks(STREAM, [4096] * 2000), collect_every=3)
    decoder = speedups.Decoder()
    counted = 0
    for piece in chunks(STREAM, [4096] * 2000):
        counted += len(decoder.feed(piece))  # dropped at once
        gc.collect(0)
    counted += len(decoder.close())
    assert kept == EXPECTED and counted == len(EXPECTED)
    # Events share cached field objects (tags, test ids): dropping the decoder
    # must leave every event intact.
    gc.collect()
    assert [tuple(e) for e in kept] == [tuple(e) for e in EXPECTED]


def test_decoders_deleted_mid_stream_free_cleanly():
    half = len(STREAM) // 2
    for n in range(50):
        decoder = speedups.Decoder(None if n % 2 else "stdout")
        decoder.feed(STREAM[: half + n * 7])  # holds an undecided tail
        del decoder
        if n % 10 == 0:
            gc.collect()
    assert compiled_events([STREAM[:half], STREAM[half:]]) == EXPECTED


def test_init_and_feed_during_feed_are_refused_and_the_feed_completes():
    # The decoder builds objects, which can start a collection, which can run
    # finalizers in the middle of feed().  One that re-initialised the decoder
    # used to free the buffer being scanned.
    decoder = speedups.Decoder()
    refused = []
    feeding = []

    class Meddler:
        def __del__(self):
            if not feeding:
                return
            for call in (decoder.__init__, lambda: decoder.feed(b"")):
                try:
                    call()
                except RuntimeError as error:
                    refused.append(str(error))
            if len(refused) < 20:
                cycle(Meddler)  # for the next collection, deeper into the feed

    class Spawner:
        # Collected first, maybe before feed() starts scanning: it only makes the
        # Meddler that the next collection (inside the scan) finds.
        def __del__(self):
            cycle(Meddler)

    def cycle(kind):
        obj = kind()
        obj.me = obj

    held = STREAM.index(b"\xb3") + 5
    old = gc.get_threshold()
    gc.collect()
    gc.disable()
    try:
        events = decoder.feed(STREAM[:held])  # leaves a partial packet held
        cycle(Spawner)
        feeding.append(True)
        gc.set_threshold(1)
        gc.enable()
        events += decoder.feed(STREAM[held:])
    finally:
        feeding.clear()
        gc.set_threshold(*old)
        gc.enable()
        gc.collect()
    events += decoder.close()
    assert events == EXPECTED
    if sys.version_info < (3, 12):
        # Before 3.12 a collection can start at any allocation, inside feed()'s C
        # code; from 3.12 it waits for the interpreter loop, so the finalizer only
        # runs between calls and there is nothing to refuse.
        assert "Decoder.__init__() called during feed() or close()" in refused
        assert "Decoder.feed() re-entered" in refused


def test_a_decoder_whose_init_never_ran_is_a_default_decoder():
    class Lazy(speedups.Decoder):
        def __init__(self):  # does not call super().__init__()
            pass

    for decoder in (speedups.Decoder.__new__(speedups.Decoder), Lazy()):
        assert decoder.non_subunit_name == "stdout"
        assert decoder.feed(STREAM) + decoder.close() == EXPECTED


def test_a_rejected_reinit_leaves_the_decoder_unchanged():
    decoder = speedups.Decoder(None)
    with pytest.raises(TypeError, match="non_subunit_name must be a str or None"):
        decoder.__init__(5)
    with pytest.raises(UnicodeEncodeError):
        decoder.non_subunit_name = "\ud800"
    assert decoder.non_subunit_name is None
    assert decoder.feed(STREAM) + decoder.close() == python_events([STREAM], None)


def test_feed_and_close_refuse_wrong_input_like_python():
    for decoder in (speedups.Decoder(), PyDecoder()):
        with pytest.raises(TypeError):
            decoder.feed("text")
        decoder.close()
        with pytest.raises(ValueError, match=r"feed\(\) after close\(\)"):
            decoder.feed(b"x")
        assert decoder.close() == []


class Recorder:
    def __init__(self, fail_at: int = -1, error=KeyError) -> None:
        self.calls = []
        self.fail_at = fail_at
        self.error = error

    def status(self, **kwargs):
        if len(self.calls) == self.fail_at:
            raise self.error(f"refused call {self.fail_at}")
        self.calls.append(kwargs)


@pytest.mark.parametrize("fail_at", [0, 1, 50, 10**9])
def test_deliver_all_stops_at_an_exception_from_status_like_python(fail_at):
    outcomes = []
    for deliver_all in (speedups.deliver_all, py_deliver_all):
        recorder = Recorder(fail_at)
        try:
            deliver_all(iter(EXPECTED), recorder)
            outcome = None
        except KeyError as error:
            outcome = str(error)
        outcomes.append((outcome, recorder.calls))
        gc.collect()
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][1]) == min(fail_at, len(EXPECTED))


def test_deliver_all_holds_no_reference_after_an_exception():
    fields = [object() for _ in range(11)]
    before = [sys.getrefcount(f) for f in fields]
    events = [tuple(fields), list(fields), Event(*fields)]
    for _ in range(20):
        with pytest.raises(ZeroDivisionError):
            speedups.deliver_all(events, Recorder(1, ZeroDivisionError))
        speedups.deliver_all(events, Recorder())
    del events
    gc.collect()
    assert [sys.getrefcount(f) for f in fields] == before


def test_deliver_all_propagates_errors_from_the_iterable():
    def broken():
        yield EXPECTED[0]
        raise OSError("the source broke")

    recorder = Recorder()
    with pytest.raises(OSError, match="the source broke"):
        speedups.deliver_all(broken(), recorder)
    assert len(recorder.calls) == 1


class Sink:
    def __init__(self, fail_write_at: int = -1, fail_flush_at: int = -1) -> None:
        self.data = []
        self.flushes = 0
        self.fail_write_at = fail_write_at
        self.fail_flush_at = fail_flush_at

    def write(self, data):
        if len(self.data) == self.fail_write_at:
            raise OSError("disk full")
        self.data.append(bytes(data))
        return len(data)

    def flush(self):
        if self.flushes == self.fail_flush_at:
            raise BrokenPipeError("reader went away")
        self.flushes += 1


@pytest.mark.parametrize("fail_write_at,fail_flush_at", [(3, -1), (-1, 3), (0, 0)])
def test_status_writer_propagates_stream_errors_like_python(
    fail_write_at, fail_flush_at
):
    kwargs = [e._asdict() for e in EXPECTED[:10]]
    outcomes = []
    for compiled in (True, False):
        sink = Sink(fail_write_at, fail_flush_at)
        if compiled:
            status = speedups.StatusWriter(sink.write, sink.flush)
        else:

            class Plain(StreamWriter):
                def status(self, **kw):  # overriding keeps the Python path
                    super().status(**kw)

            status = Plain(sink).status
        error = None
        for kw in kwargs:
            try:
                status(**kw)
            except OSError as exc:
                error = (type(exc), str(exc))
                break
        outcomes.append((error, sink.data, sink.flushes))
    assert outcomes[0] == outcomes[1] and outcomes[0][0] is not None


def test_status_writer_survives_a_write_that_drops_the_writer():
    out = io.BytesIO()
    holder = {}

    def write(data):
        holder.clear()  # the last reference outside the call
        gc.collect()
        return out.write(data)

    holder["status"] = speedups.StatusWriter(write, None)
    holder["status"](test_id="t", test_status="success")
    assert out.getvalue() == py_encode("t", "success")


def test_status_writer_in_a_reference_cycle_is_collected():
    class Stream:
        def write(self, data):
            return len(data)

    stream = Stream()
    stream.status = speedups.StatusWriter(stream.write, None)
    stream.status(test_id="t")
    del stream
    assert gc.collect() > 0


class Truthless:
    def __bool__(self):
        raise ZeroDivisionError("no truth value")


class Str(str):
    pass


class Bytes(bytes):
    pass


def odd_arguments():
    released = memoryview(b"abc")
    released.release()
    naive = datetime.datetime(2020, 1, 1)
    plus2 = datetime.timezone(datetime.timedelta(hours=2))

    class Stamp(datetime.datetime):
        pass

    return [
        dict(test_id=Str("t")),
        dict(test_id=5),
        dict(test_id="a\x00b"),
        dict(test_id="\ud800"),
        dict(test_id="\u00e9\u4e2d" * 10),
        dict(test_id="x" * 5_000_000),
        dict(test_status=Str("success")),
        dict(test_status="passed"),
        dict(test_status=3),
        dict(test_tags=["a"]),
        dict(test_tags={"a", 5}),
        dict(test_tags=frozenset({"b", "a", "\u00e9"})),
        dict(test_tags={f"t{i}" for i in range(40)}),
        dict(test_tags={"a\x00"}),
        dict(test_tags=set()),
        dict(test_tags="abc"),
        dict(runnable=Truthless()),
        dict(eof=Truthless()),
        dict(runnable=0, eof=[1]),
        dict(file_name="f", file_bytes=bytearray(b"xy")),
        dict(file_name="f", file_bytes=memoryview(b"xyz")[::2]),
        dict(file_name="f", file_bytes=released),
        dict(file_name="f", file_bytes=Bytes(b"q")),
        dict(file_name="f", file_bytes="text"),
        dict(file_name="f", file_bytes=array.array("i", [1, 2])),
        dict(file_bytes=b"x"),
        dict(file_name="f"),
        dict(file_name=Str("f"), file_bytes=b""),
        dict(file_name="f", file_bytes=b"z" * 5_000_000),
        dict(file_name="f", file_bytes=bytearray(b"z" * 5_000_000)),
        dict(file_name="f", file_bytes=memoryview(b"z" * 4_194_290)),
        dict(timestamp=naive),
        dict(timestamp=naive.replace(tzinfo=plus2)),
        dict(timestamp=Stamp(2020, 1, 1, tzinfo=UTC)),
        dict(timestamp=datetime.datetime(1960, 1, 1, tzinfo=UTC)),
        dict(timestamp=datetime.datetime(2200, 1, 1, tzinfo=UTC)),
        dict(timestamp=datetime.datetime(2020, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)),
        dict(timestamp=1.5),
        dict(mime_type=7, route_code=b"0"),
        dict(parent_test_id=Str("p")),
        dict(parent_test_id="p", route_code="r", mime_type="m"),
    ]


def outcome(function, *args, **kwargs):
    try:
        return ("ok", function(*args, **kwargs))
    except Exception as error:
        return (type(error).__name__, str(error))


@pytest.mark.parametrize("v2_only", [False, True])
def test_odd_arguments_give_the_python_bytes_or_the_python_error(v2_only):
    # The same argument objects go to both, so mutable ones must come back intact.
    for odd in odd_arguments():
        kwargs = {"test_id": "t", "test_status": "success", **odd}
        expected = outcome(py_encode, **kwargs, v2_only=v2_only)
        assert outcome(speedups.encode, **kwargs, v2_only=v2_only) == expected, odd
        encoder = speedups.Encoder(v2_only=v2_only)
        assert outcome(encoder.encode, **kwargs) == expected, odd
        sink = Sink()
        status = speedups.StatusWriter(sink.write, None, v2_only)
        got = outcome(status, **kwargs)
        if expected[0] == "ok":
            assert got == ("ok", None) and b"".join(sink.data) == expected[1], odd
        else:
            assert got == expected and sink.data == [], odd


def test_encoding_holds_no_reference_to_its_arguments():
    values = [Str("t"), Str("success"), {"a", Str("b")}, Str("f"), bytearray(b"x")]
    before = [sys.getrefcount(v) for v in values]
    for _ in range(50):
        speedups.encode(values[0], values[1], values[2], True, values[3], values[4])
        with pytest.raises(ZeroDivisionError):
            speedups.encode(values[0], values[1], values[2], Truthless())
        with pytest.raises(EncodeError):
            speedups.encode(values[0], "passed", values[2], file_name=values[3])
    gc.collect()
    assert [sys.getrefcount(v) for v in values] == before
    values[4].append(1)  # no buffer export left behind


def test_a_nested_encode_from_a_truth_test_is_harmless():
    encoder = speedups.Encoder()
    # Not UTC: encoded by the Python fallback encoder.
    when = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc).astimezone(
        datetime.timezone(datetime.timedelta(hours=2))
    )

    class Reentrant:
        def __bool__(self):
            # A nested call, and a setting change that drops the fallback encoder.
            encoder.encode(test_id="x" * 100, test_tags={"a"}, timestamp=when)
            encoder.v2_only = False
            return True

    for _ in range(3):
        got = encoder.encode("t", "success", None, Reentrant(), timestamp=when)
        assert got == py_encode("t", "success", None, True, timestamp=when)
    plain = PyEncoder().encode("t", file_name="f", file_bytes=b"\0" * 5_000_000)
    assert encoder.encode("t", file_name="f", file_bytes=b"\0" * 5_000_000) == plain


def test_threads_decoding_and_encoding_at_once_agree_with_python():
    errors = []

    def work(seed):
        try:
            rng = random.Random(seed)
            sizes = [rng.choice((1, 50, 4096, 100000)) for _ in range(200)]
            pieces = chunks(STREAM, sizes)
            if compiled_events(pieces) != python_events(pieces):
                errors.append(f"decode {seed}")
            out = io.BytesIO()
            writer = StreamWriter(out, flush=False)
            for event in EXPECTED[:500]:
                writer.status(**event._asdict())
            if out.getvalue() != b"".join(
                py_encode(**e._asdict()) for e in EXPECTED[:500]
            ):
                errors.append(f"encode {seed}")
        except Exception as error:  # reported below
            errors.append(repr(error))

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []


@pytest.mark.skipif(sys.getallocatedblocks() == 0, reason="PYTHONMALLOC=malloc")
def test_repeated_decoding_and_encoding_does_not_grow_memory():
    def once():
        events = compiled_events(chunks(STREAM, [8192] * 200))
        speedups.deliver_all(events, Recorder())
        sink = Sink()
        status = speedups.StatusWriter(sink.write, sink.flush)
        for event in events[:300]:
            status(**event._asdict())
            speedups.encode(**event._asdict(), v2_only=True)
        outcome(speedups.encode, "t", "passed")

    for _ in range(3):
        once()
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(15):
        once()
    gc.collect()
    # One leaked object per event would be thousands of blocks per round.
    assert sys.getallocatedblocks() - before < 500
