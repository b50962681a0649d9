"""subunit2junitxml | junitxml2subunit gives back the ids, outcomes, parents and
tracebacks; junitparser agrees with our counts and outcomes on every report."""

from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st
from junitparser import Error, Failure, JUnitXml, Skipped

from subunit2 import Event, decode_bytes, encode, read_stream
from subunit2.aggregate import Aggregator
from subunit2.junit_reader import JUnitReader
from subunit2.junit_writer import JUnitXmlWriter

SAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "samples", "junit")
OUTCOMES = ["success", "fail", "uxsuccess", "skip", "xfail", "inprogress"]

# Characters XML 1.0 can hold (others are escaped visibly, so they cannot round-trip).
xml_text = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc", "Cn")),
        st.sampled_from("\t\n\r.:()[]/ "),
    ),
    min_size=1,
    max_size=30,
)
structured_id = st.builds(
    lambda parts, tail: ".".join(parts) + tail,
    st.lists(st.sampled_from(["pkg", "mod", "Test", "a.b"]), min_size=1, max_size=3),
    st.sampled_from(["", "[1.5]", " (i=2)", "::test_x", "/sub.case", "(x.y)"]),
)


@st.composite
def runs(draw):
    """A list of (test_id, outcome, parent, route_code, traceback)."""
    tests = []
    for _ in range(draw(st.integers(0, 12))):
        test_id = draw(st.one_of(structured_id, xml_text))
        if tests and draw(st.booleans()):
            test_id = draw(st.sampled_from([t[0] for t in tests]))  # a duplicate
        outcome = draw(st.sampled_from(OUTCOMES))
        parent = None
        if tests and draw(st.booleans()):
            parent = draw(st.sampled_from([t[0] for t in tests]))
        route = draw(st.sampled_from([None, "0", "1"]))
        traceback = draw(xml_text) if outcome == "fail" else None
        tests.append((test_id, outcome, parent, route, traceback))
    # Incomplete tests are reported at the end, once per (route, id).
    seen = set()
    complete = [t for t in tests if t[1] != "inprogress"]
    incomplete = []
    for t in tests:
        if t[1] == "inprogress" and (t[3], t[0]) not in seen:
            seen.add((t[3], t[0]))
            incomplete.append(t)
    return complete, incomplete


def encode_run(complete, incomplete) -> bytes:
    out = []
    for test_id, _outcome, parent, route, _traceback in incomplete:
        out.append(
            encode(
                test_id=test_id,
                test_status="inprogress",
                parent_test_id=parent,
                route_code=route,
            )
        )
    for test_id, outcome, parent, route, traceback in complete:
        common = dict(test_id=test_id, parent_test_id=parent, route_code=route)
        if (route, test_id) in {(t[3], t[0]) for t in incomplete}:
            common["route_code"] = f"{route}/done"
        out.append(encode(test_status="inprogress", **common))
        if traceback is not None:
            out.append(
                encode(
                    file_name="traceback",
                    file_bytes=traceback.encode("utf-8"),
                    eof=True,
                    **common,
                )
            )
        out.append(encode(test_status=outcome, **common))
    return b"".join(out)


def to_xml(data: bytes) -> bytes:
    with JUnitXmlWriter() as writer:
        writer.startTestRun()
        read_stream(io.BytesIO(data), writer)
        writer.stopTestRun()
        out = io.BytesIO()
        writer.write_report(out)
        return out.getvalue()


def from_xml(document: bytes) -> list:
    records = []
    aggregator = Aggregator(records.append)
    reader = JUnitReader(aggregator)
    reader.feed(document)
    reader.close()
    aggregator.stopTestRun()
    return records


class Recorder:
    def __init__(self) -> None:
        self.events = []

    def status(self, **kwargs) -> None:
        self.events.append(Event(**kwargs))


def from_xml_events(document: bytes) -> list:
    recorder = Recorder()
    reader = JUnitReader(recorder)
    reader.feed(document)
    reader.close()
    return recorder.events


def check_with_junitparser(document: bytes, expected_outcomes: list) -> None:
    xml = JUnitXml.fromstring(document.decode("utf-8"))
    [suite] = list(xml)
    kinds = []
    for case in suite:
        results = [r for r in case.result if isinstance(r, (Failure, Error, Skipped))]
        kinds.append(type(results[0]).__name__ if results else "pass")
    assert kinds == expected_outcomes
    assert suite.tests == len(kinds)
    assert suite.failures == kinds.count("Failure")
    assert suite.errors == kinds.count("Error")
    assert suite.skipped == kinds.count("Skipped")


JUNIT_KIND = {
    "success": "pass",
    "xfail": "pass",
    "fail": "Failure",
    "uxsuccess": "Failure",
    "skip": "Skipped",
    "inprogress": "Error",
}


@given(runs())
def test_ids_outcomes_parents_and_tracebacks_survive_the_round_trip(run):
    complete, incomplete = run
    document = to_xml(encode_run(complete, incomplete))
    # The tests complete in stream order; incomplete ones are written last.
    ordered = complete + incomplete
    check_with_junitparser(document, [JUNIT_KIND[t[1]] for t in ordered])
    events = from_xml_events(document)
    statuses = [
        (e.test_id, e.test_status, e.parent_test_id)
        for e in events
        if e.test_status is not None
    ]
    expected = []
    for test_id, outcome, parent, _, _ in ordered:
        expected.append((test_id, "inprogress", parent))
        if outcome != "inprogress":
            expected.append((test_id, outcome, parent))
    assert statuses == expected
    tracebacks = [e.file_bytes.decode() for e in events if e.file_name == "traceback"]
    fails = [t[4] for t in ordered if t[1] == "fail"]
    assert len(tracebacks) == len(fails)
    for got, sent in zip(tracebacks, fails):
        if sent.strip():
            assert got == sent


def test_the_command_pipeline_round_trips_a_mixed_stream(tmp_path):
    sys.path.insert(0, os.path.join(os.path.dirname(SAMPLES), "..", "..", "bench"))
    try:
        import streams
    finally:
        sys.path.pop(0)
    data = b"".join(encode(**kwargs) for kwargs in streams.events(2000))
    source = tmp_path / "run.subunit"
    source.write_bytes(data)
    to_junit = subprocess.run(
        [sys.executable, "-m", "subunit2.filters.subunit2junitxml", str(source)],
        capture_output=True,
        timeout=60,
    )
    assert to_junit.returncode == 1  # 5% of the tests fail
    back = subprocess.run(
        [sys.executable, "-m", "subunit2.filters.junitxml2subunit"],
        input=to_junit.stdout,
        capture_output=True,
        timeout=60,
    )
    assert back.returncode == 0, back.stderr
    original = []
    aggregator0 = Aggregator(original.append)
    for event in decode_bytes(data):
        aggregator0.status(**event.kwargs())
    returned = []
    aggregator = Aggregator(returned.append)
    for event in decode_bytes(back.stdout):
        aggregator.status(**event.kwargs())
    assert len(original) == len(returned) == 2000
    # Durations are kept to the millisecond (JUnit's time attribute).
    ms = datetime.timedelta(milliseconds=1)
    assert [(r.test_id, r.status, r.duration) for r in returned] == [
        (r.test_id, r.status, round(r.duration / ms) * ms) for r in original
    ]
    for before, after in zip(original, returned):
        if before.status == "fail":
            assert (
                after.attachments["traceback"].content
                == before.attachments["traceback"].content
            )


def test_junit_samples_survive_junitxml2subunit_then_subunit2junitxml(tmp_path):
    for name in sorted(os.listdir(SAMPLES)):
        path = os.path.join(SAMPLES, name)
        with open(path, "rb") as source:
            original = from_xml(source.read())
        stream = subprocess.run(
            [sys.executable, "-m", "subunit2.filters.junitxml2subunit", path],
            capture_output=True,
            timeout=60,
        ).stdout
        report = subprocess.run(
            [
                sys.executable,
                "-m",
                "subunit2.filters.subunit2junitxml",
                "--no-verdict",
                "-",
            ],
            input=stream,
            capture_output=True,
            timeout=60,
        )
        assert report.returncode == 0, report.stderr
        again = from_xml(report.stdout)
        assert [(r.test_id, r.status) for r in again] == [
            (r.test_id, r.status) for r in original
        ], name
