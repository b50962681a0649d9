"""testtools producers write through StreamWriter; testtools results read through
read_stream.  testtools predates 2.1, so parent ids are withheld from its results
and everything else is delivered."""

from __future__ import annotations

import datetime
import io
import unittest

import testtools
from hypothesis import given
from hypothesis import strategies as st
from recorders import OldRecorder, events_of
from strategies import Recorder, ev_bytes, events, normal

from subunit2 import Event, StreamWriter, decode_bytes, read_stream
from subunit2.result import accepts_parent, as_target

UTC = datetime.timezone.utc


class Sample(unittest.TestCase):
    """Run by the tests below through testtools, not collected by pytest."""

    __test__ = False

    def test_passes(self):
        pass

    def test_fails(self):
        self.fail("expected to fail here")

    def test_errors(self):
        raise RuntimeError("boom")

    @unittest.skip("not today")
    def test_skipped(self):
        pass

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.fail("known")

    @unittest.expectedFailure
    def test_unexpected_success(self):
        pass

    def test_with_subtests(self):
        for i in range(3):
            with self.subTest(i=i):
                self.assertNotEqual(i, 1)


def run_sample_through(target):
    suite = unittest.TestLoader().loadTestsFromTestCase(Sample)
    result = testtools.ExtendedToStreamDecorator(target)
    result.startTestRun()
    try:
        suite.run(result)
    finally:
        result.stopTestRun()


# --- testtools writes through StreamWriter -----------------------------------------


def test_a_unittest_run_through_extended_to_stream_decorator_decodes_exactly():
    sink = io.BytesIO()
    recorder = OldRecorder()
    run_sample_through(testtools.CopyStreamResult([StreamWriter(sink), recorder]))
    decoded = decode_bytes(sink.getvalue())
    assert decoded == events_of(recorder)
    assert events_of(recorder), "the run produced no events"


def test_a_unittest_run_written_here_has_each_tests_outcome():
    sink = io.BytesIO()
    run_sample_through(StreamWriter(sink))
    final = {
        e.test_id.rsplit(".", 1)[-1]: e.test_status
        for e in decode_bytes(sink.getvalue())
        if e.test_status not in (None, "inprogress")
    }
    assert final == {
        "test_passes": "success",
        "test_fails": "fail",
        "test_errors": "fail",
        "test_skipped": "skip",
        "test_expected_failure": "xfail",
        "test_unexpected_success": "uxsuccess",
        "test_with_subtests": "fail",
    }


def test_a_unittest_run_reads_back_into_stream_summary_like_the_original():
    sink = io.BytesIO()
    direct = testtools.StreamSummary()
    run_sample_through(testtools.CopyStreamResult([StreamWriter(sink), direct]))
    replayed = testtools.StreamSummary()
    replayed.startTestRun()
    read_stream(io.BytesIO(sink.getvalue()), replayed)
    replayed.stopTestRun()
    assert replayed.testsRun == direct.testsRun
    assert len(replayed.failures) == len(direct.failures)
    assert len(replayed.errors) == len(direct.errors)
    assert len(replayed.skipped) == len(direct.skipped)
    assert len(replayed.expectedFailures) == len(direct.expectedFailures)
    assert len(replayed.unexpectedSuccesses) == len(direct.unexpectedSuccesses)
    assert replayed.wasSuccessful() == direct.wasSuccessful()


@given(st.lists(events(parent=False, max_file_size=32), max_size=8))
def test_timestamping_stream_result_writes_through_stream_writer(batch):
    sink = io.BytesIO()
    recorder = OldRecorder()
    stamped = testtools.TimestampingStreamResult(
        testtools.CopyStreamResult([StreamWriter(sink), recorder])
    )
    stamped.startTestRun()
    for event in batch:
        kwargs = event.kwargs()
        del kwargs["parent_test_id"]
        stamped.status(**kwargs)
    stamped.stopTestRun()
    decoded = decode_bytes(sink.getvalue())
    assert decoded == events_of(recorder)
    assert all(e.timestamp is not None for e in decoded)


# --- testtools results read through read_stream ------------------------------------

SUBTESTS = [
    Event(
        test_id="t",
        test_status="inprogress",
        timestamp=datetime.datetime(2024, 1, 1, tzinfo=UTC),
    ),
    Event(test_id="t (i=0)", test_status="success", parent_test_id="t"),
    Event(
        test_id="t (i=1)",
        file_name="traceback",
        file_bytes=b"Traceback...",
        mime_type="text/plain; charset=utf8",
        eof=True,
        parent_test_id="t",
        route_code="0",
    ),
    Event(
        test_id="t (i=1)",
        test_status="fail",
        parent_test_id="t",
        runnable=False,
        test_tags={"slow"},
        route_code="0",
    ),
    Event(test_id="t", test_status="fail"),
    Event(test_id="u", test_status="skip", test_tags={"a", "b"}),
    Event(test_id="v", test_status="inprogress"),
]
SUBTEST_STREAM = b"log\n" + b"".join(ev_bytes(e) for e in SUBTESTS)


def test_testtools_results_do_not_take_a_parent():
    for result in (
        testtools.StreamResult(),
        testtools.StreamSummary(),
        testtools.StreamToDict(lambda test: None),
        testtools.CopyStreamResult([]),
        OldRecorder(),
    ):
        assert not accepts_parent(result), type(result).__name__
        assert accepts_parent(as_target(result)), type(result).__name__


def test_a_recording_testtools_result_gets_everything_but_the_parent():
    recorder = OldRecorder()
    read_stream(io.BytesIO(SUBTEST_STREAM), recorder)
    expected = [Event(file_name="stdout", file_bytes=b"log\n")]
    expected += [e._replace(parent_test_id=None) for e in SUBTESTS]
    assert events_of(recorder) == expected


@given(st.lists(events(max_file_size=32), max_size=8))
def test_any_stream_reaches_a_testtools_result_minus_parents(batch):
    recorder = OldRecorder()
    read_stream(io.BytesIO(b"".join(ev_bytes(e) for e in batch)), recorder)
    assert [normal(e) for e in events_of(recorder)] == [
        normal(e._replace(parent_test_id=None)) for e in batch
    ]


def test_a_2_1_result_beside_it_still_gets_the_parent():
    recorder = Recorder()
    read_stream(io.BytesIO(SUBTEST_STREAM), recorder, non_subunit_name=None)
    assert recorder.events == SUBTESTS


def test_stream_summary_counts_subtests_read_from_a_stream():
    summary = testtools.StreamSummary()
    summary.startTestRun()
    read_stream(io.BytesIO(SUBTEST_STREAM), summary)
    summary.stopTestRun()
    finals = {}
    for e in SUBTESTS:
        if e.test_status is not None:
            finals[e.test_id] = e.test_status
    assert summary.testsRun == len(finals)
    failed = [t for t, s in finals.items() if s == "fail"]
    incomplete = [t for t, s in finals.items() if s == "inprogress"]
    assert len(summary.failures) + len(summary.errors) == len(failed) + len(incomplete)
    assert len(summary.skipped) == sum(1 for s in finals.values() if s == "skip")
    assert not summary.wasSuccessful()


def test_stream_to_dict_sees_each_test_with_its_details():
    tests = []
    result = testtools.StreamToDict(tests.append)
    result.startTestRun()
    read_stream(io.BytesIO(SUBTEST_STREAM), result)
    result.stopTestRun()
    by_id = {t["id"]: t for t in tests}
    assert set(by_id) == {e.test_id for e in SUBTESTS}
    child = by_id["t (i=1)"]
    assert child["status"] == "fail"
    assert child["tags"] == {"slow"}
    assert b"".join(child["details"]["traceback"].iter_bytes()) == b"Traceback..."
    assert by_id["t"]["timestamps"][0] == SUBTESTS[0].timestamp
    assert by_id["v"]["status"] == "inprogress"  # never finished: not a pass
    assert by_id["u"]["tags"] == {"a", "b"}


def test_copy_stream_result_forwards_to_testtools_results_without_a_parent():
    # CopyStreamResult takes **kwargs and forwards them; read_stream must still
    # withhold the parent, or the StreamSummary behind it would raise TypeError.
    summary = testtools.StreamSummary()
    recorder = OldRecorder()
    fan = testtools.CopyStreamResult([summary, recorder])
    fan.startTestRun()
    read_stream(io.BytesIO(SUBTEST_STREAM), fan)
    fan.stopTestRun()
    assert len(events_of(recorder)) == len(SUBTESTS) + 1
    assert summary.testsRun == len({e.test_id for e in SUBTESTS if e.test_status})
