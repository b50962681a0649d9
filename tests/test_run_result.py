"""UnittestStreamResult in-process: unittest callbacks in, status() events out."""

from __future__ import annotations

import datetime
import io
import subprocess
import sys
import types
import unittest

import subunit
import testtools
from recorders import Recorder, events_of

from subunit2 import unittest_result
from subunit2.unittest_result import OutputCapture, UnittestStreamResult

T0 = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def run(*tests, **options):
    recorder = Recorder()
    result = UnittestStreamResult(recorder, clock=lambda: T0, **options)
    unittest.TestSuite(tests).run(result)
    return result, events_of(recorder)


def final(events):
    return {
        e.test_id: (e.test_status, e.parent_test_id)
        for e in events
        if e.test_status not in (None, "inprogress")
    }


def attachment(events, test_id, name):
    return b"".join(
        e.file_bytes for e in events if e.test_id == test_id and e.file_name == name
    )


class Nested(unittest.TestCase):
    __test__ = False  # run by these tests, not collected by pytest

    def test_nested(self):
        with self.subTest(a=1):
            with self.subTest(b=2):
                pass

    @unittest.expectedFailure
    def test_xfail_with_subtests(self):
        with self.subTest(i=0):
            pass
        with self.subTest(i=1):
            self.fail("expected")

    def test_fail_then_cleanup_error(self):
        self.addCleanup(self._broken_cleanup)
        self.fail("first")

    def _broken_cleanup(self):
        raise ValueError("cleanup broke")

    def test_chatty(self):
        sys.stdout.write("x" * (unittest_result.CHUNK_SIZE + 10))
        sys.stdout = io.StringIO()  # replaced and never restored

    def test_failfast_subtests(self):
        for i in range(3):
            with self.subTest(i=i):
                self.fail(str(i))


def case(name):
    return Nested(name)


def test_every_event_gets_the_clocks_timestamp():
    _, events = run(case("test_nested"), case("test_fail_then_cleanup_error"))
    assert events and {e.timestamp for e in events} == {T0}


def test_nested_subtests_name_the_test_as_parent():
    _, events = run(case("test_nested"))
    tid = case("test_nested").id()
    assert final(events) == {
        f"{tid} (b=2, a=1)": ("success", tid),  # unittest's naming
        f"{tid} (a=1)": ("success", tid),
        tid: ("success", None),
    }


def test_expected_failure_with_subtests_stays_expected():
    _, events = run(case("test_xfail_with_subtests"))
    tid = case("test_xfail_with_subtests").id()
    assert final(events) == {f"{tid} (i=0)": ("success", tid), tid: ("xfail", None)}


def test_a_second_error_keeps_the_failure_and_both_tracebacks():
    result, events = run(case("test_fail_then_cleanup_error"))
    tid = case("test_fail_then_cleanup_error").id()
    assert final(events) == {tid: ("fail", None)}
    assert b"AssertionError: first" in attachment(events, tid, "traceback")
    assert b"ValueError: cleanup broke" in attachment(events, tid, "traceback-2")
    assert result.failing


def test_big_output_is_sent_in_chunks_and_stdout_is_restored():
    saved = sys.stdout
    _, events = run(case("test_chatty"))
    assert sys.stdout is saved
    tid = case("test_chatty").id()
    chunks = [e for e in events if e.test_id == tid and e.file_name == "stdout"]
    assert len(chunks) == 2
    assert [c.eof for c in chunks] == [False, True]
    assert b"".join(c.file_bytes for c in chunks) == b"x" * (
        unittest_result.CHUNK_SIZE + 10
    )


def test_failfast_ends_the_run_at_the_first_failing_subtest():
    result, events = run(
        case("test_failfast_subtests"), case("test_nested"), failfast=True
    )
    tid = case("test_failfast_subtests").id()
    assert final(events) == {f"{tid} (i=0)": ("fail", tid), tid: ("fail", None)}
    assert result.shouldStop


def test_a_failing_module_fixture_is_reported_as_an_unrunnable_test(monkeypatch):
    module = types.ModuleType("fake_fixture_module")

    def setUpModule():
        raise RuntimeError("module fixture broke")

    module.setUpModule = setUpModule
    monkeypatch.setitem(sys.modules, "fake_fixture_module", module)
    cls = type("InFake", (unittest.TestCase,), {"test_x": lambda self: None})
    cls.__module__ = "fake_fixture_module"
    _, events = run(cls("test_x"))
    assert final(events) == {"setUpModule (fake_fixture_module)": ("fail", None)}
    assert {e.runnable for e in events} == {False}
    traceback = attachment(events, "setUpModule (fake_fixture_module)", "traceback")
    assert b"module fixture broke" in traceback


def test_output_capture_hands_over_on_drain_and_ends_with_eof():
    got = []
    capture = OutputCapture(lambda data, eof: got.append((data, eof)), limit=100)
    capture.text.write("prompt? ")
    assert got == []
    capture.drain()
    capture.drain(eof=True)
    assert got == [(b"prompt? ", False), (b"", True)]
    silent = []
    OutputCapture(lambda data, eof: silent.append(data)).drain(eof=True)
    assert silent == []  # nothing written: no attachment at all


def test_python_subunit_reads_the_runners_stream():
    import os

    basic = os.path.join(os.path.dirname(__file__), "samples", "unittest_suite")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "subunit2.run",
            "samplepkg.sample_outcomes.Outcomes",
            "samplepkg.sample_outcomes.Subtests.test_mixed",
        ],
        cwd=os.path.join(basic, "basic"),
        capture_output=True,
        timeout=60,
    )
    tests = {}
    result = testtools.StreamToDict(lambda t: tests.__setitem__(t["id"], t))
    result.startTestRun()
    subunit.ByteStreamToStreamResult(io.BytesIO(proc.stdout)).run(result)
    result.stopTestRun()
    prefix = "samplepkg.sample_outcomes."
    assert tests[prefix + "Outcomes.test_pass"]["status"] == "success"
    assert tests[prefix + "Outcomes.test_uxsuccess"]["status"] == "uxsuccess"
    assert tests[prefix + "Outcomes.test_skip"]["status"] == "skip"
    assert tests[prefix + "Subtests.test_mixed (i=1)"]["status"] == "fail"
    assert tests[prefix + "Subtests.test_mixed"]["status"] == "fail"
    details = tests[prefix + "Outcomes.test_pass"]["details"]
    assert details["stdout"].as_text() == "out from test_pass\n"
    assert len(tests) == 10
