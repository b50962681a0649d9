"""subunit2junitxml: the report's structure, outcomes, names, safety and exit codes.

Every report is parsed with a strict parser (expat via ElementTree) and, where counts
and outcomes matter, also with junitparser, an independent JUnit reader from PyPI.
"""

from __future__ import annotations

import datetime
import io
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st
from junitparser import Error, Failure, JUnitXml, Skipped

from subunit2 import Event, encode
from subunit2.filters import subunit2junitxml
from subunit2.junit_report import write_report
from subunit2.junit_writer import JUnitXmlWriter, join_id, split_id

UTC = datetime.timezone.utc
MODULE = "subunit2.filters.subunit2junitxml"


def stamp(seconds: float) -> datetime.datetime:
    return datetime.datetime(2024, 5, 6, 7, 8, 0, tzinfo=UTC) + datetime.timedelta(
        seconds=seconds
    )


def stream(*events: Event) -> bytes:
    return b"".join(encode(**e.kwargs()) for e in events)


def run(*args: str, stdin: bytes = b"", **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        **kwargs,
    )


def convert(data: bytes, **options) -> bytes:
    """The report for a stream, made in-process with the library."""
    with JUnitXmlWriter(**options) as writer:
        writer.startTestRun()
        from subunit2 import read_stream

        read_stream(io.BytesIO(data), writer)
        writer.stopTestRun()
        out = io.BytesIO()
        writer.write_report(out)
        return out.getvalue()


def cases(report: bytes) -> dict:
    """testcase elements by (classname, name), parsed strictly."""
    root = ET.fromstring(report)
    return {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}


def props(case: ET.Element) -> dict:
    return {p.get("name"): p.get("value") for p in case.iter("property")}


def one(test_id: str, status: str, *extra: Event, start=0.0, stop=0.0, **kw):
    """Events of one test: inprogress, attachments, final status."""
    return [
        Event(test_id=test_id, test_status="inprogress", timestamp=stamp(start), **kw),
        *extra,
        Event(test_id=test_id, test_status=status, timestamp=stamp(stop), **kw),
    ]


def attach(test_id: str, name: str, data: bytes, mime="text/plain", **kw) -> Event:
    return Event(
        test_id=test_id,
        file_name=name,
        file_bytes=data,
        mime_type=mime,
        eof=True,
        **kw,
    )


# -- names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "test_id, expected",
    [
        ("pkg.mod.Class.test_x", ("pkg.mod.Class", "test_x")),
        ("pkg.T.test_x[1.5-a.b]", ("pkg.T", "test_x[1.5-a.b]")),
        ("pkg.T.test_x(param.one)", ("pkg.T", "test_x(param.one)")),
        ("pkg.T.test_x (i=1.5)", ("pkg.T", "test_x (i=1.5)")),
        ("test_alone", ("", "test_alone")),
        ("trailing.", ("", "trailing.")),
        (".leading", ("", ".leading")),
        ("tests/test_m.py::TestC::test_x[a.b]", ("tests.test_m.TestC", "test_x[a.b]")),
        ("tests/test_m.py::test_f", ("tests.test_m", "test_f")),
        ("a.b[x::y].c", ("a.b[x::y]", "c")),
    ],
)
def test_ids_split_at_last_dot_outside_brackets_and_at_pytest_separators(
    test_id, expected
):
    assert split_id(test_id) == expected


def test_ids_that_the_split_cannot_rebuild_carry_a_test_id_property():
    data = stream(
        *one("tests/test_m.py::TestC::test_x", "success"),
        *one("pkg.T.test_y", "success"),
    )
    found = cases(convert(data))
    pytest_case = found[("tests.test_m.TestC", "test_x")]
    assert props(pytest_case) == {"subunit.test_id": "tests/test_m.py::TestC::test_x"}
    plain = found[("pkg.T", "test_y")]
    assert plain.find("properties") is None
    # No classname part: the suite name stands in (Jenkins needs a classname).
    data = stream(*one("TestGo", "success"))
    lone = cases(convert(data, suite_name="go"))[("go", "TestGo")]
    assert props(lone) == {"subunit.test_id": "TestGo"}
    assert join_id("pkg.T", "test_y") == "pkg.T.test_y"


def test_duplicate_names_are_made_unique_so_no_consumer_drops_one():
    data = stream(
        *one("pkg.T.test_a", "fail", route_code="0"),
        *one("pkg.T.test_a", "success", route_code="1"),
        *one("pkg.T.test_a", "success", route_code="0"),
        *one("pkg.T.test_a #2", "success"),
    )
    root = ET.fromstring(convert(data))
    pairs = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert len(pairs) == 4 == len(set(pairs))
    assert pairs[0] == ("pkg.T", "test_a")
    ids = [
        props(c).get("subunit.test_id") or join_id(*p)
        for c, p in zip(root.iter("testcase"), pairs)
    ]
    assert ids == ["pkg.T.test_a"] * 3 + ["pkg.T.test_a #2"]


# -- outcomes ---------------------------------------------------------------------

TRACEBACK = (
    b"Traceback (most recent call last):\n"
    b'  File "t.py", line 3, in test_a\n'
    b"AssertionError: 1 != 2\n"
)


def outcome_stream() -> bytes:
    return stream(
        *one("pkg.T.test_pass", "success", start=0, stop=0.25),
        *one(
            "pkg.T.test_fail",
            "fail",
            attach("pkg.T.test_fail", "traceback", TRACEBACK, "text/x-traceback"),
            start=1,
            stop=2.5,
        ),
        *one("pkg.T.test_ux", "uxsuccess"),
        *one("pkg.T.test_skip", "skip", attach("pkg.T.test_skip", "reason", b"no db")),
        *one("pkg.T.test_xfail", "xfail"),
        Event(test_id="pkg.T.test_listed", test_status="exists"),
        Event(test_id="pkg.T.test_crashed", test_status="inprogress"),
    )


def test_each_status_becomes_the_element_ci_consumers_expect():
    report = convert(outcome_stream())
    found = cases(report)
    assert [child.tag for child in found[("pkg.T", "test_pass")]] == []
    failure = found[("pkg.T", "test_fail")].find("failure")
    assert failure.text == TRACEBACK.decode()
    assert failure.get("message") == "AssertionError: 1 != 2"
    assert failure.get("type") == "AssertionError"
    ux = found[("pkg.T", "test_ux")].find("failure")
    assert "unexpected success" in ux.get("message")
    skipped = found[("pkg.T", "test_skip")].find("skipped")
    assert skipped.get("message") == "no db"
    assert b"<skip " not in report and b"<skip>" not in report
    xfail = found[("pkg.T", "test_xfail")]
    assert xfail.find("failure") is None and xfail.find("skipped") is None
    assert props(xfail) == {"subunit.status": "xfail"}
    crashed = found[("pkg.T", "test_crashed")].find("error")
    assert crashed.get("type") == "Incomplete"
    assert ("pkg.T", "test_listed") not in found
    assert found[("pkg.T", "test_fail")].get("time") == "1.500"
    assert found[("pkg.T", "test_pass")].get("time") == "0.250"


def test_xfail_can_be_reported_as_skipped():
    found = cases(convert(outcome_stream(), xfail="skipped"))
    assert found[("pkg.T", "test_xfail")].find("skipped").get("type") == "xfail"


def test_suite_counts_equal_their_children_for_a_strict_and_an_independent_reader(
    tmp_path,
):
    path = tmp_path / "report.xml"
    path.write_bytes(convert(outcome_stream()))
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    children = list(suite.iter("testcase"))
    expected = {
        "tests": len(children),
        "failures": sum(c.find("failure") is not None for c in children),
        "errors": sum(c.find("error") is not None for c in children),
        "skipped": sum(c.find("skipped") is not None for c in children),
    }
    assert expected == {"tests": 6, "failures": 2, "errors": 1, "skipped": 1}
    for element in (root, suite):
        assert {k: int(element.get(k)) for k in expected} == expected
    total = sum(float(c.get("time")) for c in children)
    assert float(suite.get("time")) == pytest.approx(total)
    xml = JUnitXml.fromfile(str(path))
    [jsuite] = list(xml)
    jcases = list(jsuite)
    outcomes = {
        c.name: [
            type(r).__name__
            for r in c.result
            if isinstance(r, (Failure, Error, Skipped))
        ]
        for c in jcases
    }
    assert outcomes == {
        "test_pass": [],
        "test_fail": ["Failure"],
        "test_ux": ["Failure"],
        "test_skip": ["Skipped"],
        "test_xfail": [],
        "test_crashed": ["Error"],
    }
    assert (jsuite.tests, jsuite.failures, jsuite.errors, jsuite.skipped) == (
        len(jcases),
        sum(o == ["Failure"] for o in outcomes.values()),
        sum(o == ["Error"] for o in outcomes.values()),
        sum(o == ["Skipped"] for o in outcomes.values()),
    )


# -- attachments and hostile content ----------------------------------------------


def test_stdout_and_stderr_are_system_out_and_err_other_text_under_a_header():
    tid = "pkg.T.test_a"
    data = stream(
        *one(
            tid,
            "success",
            attach(tid, "stdout", b"printed\n"),
            attach(tid, "stderr", b"warned\n"),
            attach(tid, "log", b"log line\n", "text/plain; charset=utf8"),
            attach(tid, "data.json", b'{"a": 1}', "application/json"),
            attach(tid, "core", b"\x00\x01\x02\xff", "application/octet-stream"),
        )
    )
    case = cases(convert(data))[("pkg.T", "test_a")]
    out = case.find("system-out").text
    assert out.startswith("printed\n")
    assert "--- attachment log (text/plain; charset=utf8) ---\nlog line\n" in out
    assert '{"a": 1}' in out
    assert "core (application/octet-stream): 4 bytes of binary data" in out
    assert "\\xff" not in out
    assert case.find("system-err").text == "warned\n"


def test_characters_xml_cannot_hold_are_escaped_and_the_report_stays_well_formed():
    tid = "pkg.T.test_\x1b[31mred\x7f<&>\"'"
    data = stream(
        *one(
            tid,
            "fail",
            attach(tid, "traceback", b"bad \x00\x01\x0b byte \xff\xfe\r\nend\r\n"),
            attach(tid, "stdout", "\ufffe\U0001f600 ]]> &amp;".encode()),
        )
    )
    report = convert(data)
    [case] = ET.fromstring(report).iter("testcase")
    assert case.get("name") == "test_\\x1b[31mred\x7f<&>\"'"
    body = case.find("failure").text
    assert body == "bad \\x00\\x01\\x0b byte \\xff\\xfe\r\nend\r\n"
    assert case.find("system-out").text == "\\ufffe\U0001f600 ]]> &amp;"
    # Control characters cannot be given back: the escape is in the name.
    assert "subunit.test_id" not in props(case)


def test_non_subunit_bytes_go_to_the_suite_system_out_and_nowhere_else():
    data = b"stray <text> \xff\n" + stream(*one("pkg.T.test_a", "success"))
    data += b"more\n"
    root = ET.fromstring(convert(data))
    suite = root.find("testsuite")
    assert suite.find("system-out").text == "stray <text> \\xff\nmore\n"
    assert list(suite)[-1].tag == "system-out"
    [case] = root.iter("testcase")
    assert case.find("system-out") is None


def test_non_subunit_bytes_can_go_to_stderr_or_be_dropped(tmp_path):
    data = b"stray\n" + stream(*one("pkg.T.test_a", "success"))
    result = run("--non-subunit", "stderr", stdin=data)
    assert result.returncode == 0
    assert result.stderr == b"stray\n"
    assert b"stray" not in result.stdout
    result = run("--non-subunit", "drop", stdin=data)
    assert b"stray" not in result.stdout + result.stderr
    ET.fromstring(result.stdout)


# -- subtests ---------------------------------------------------------------------


def test_each_subtest_is_a_testcase_named_after_its_parent_with_a_parent_property():
    parent = "pkg.T.test_table"
    events = [
        Event(test_id=parent, test_status="inprogress"),
        *one("pkg.T.test_table (i=1.5)", "success", parent_test_id=parent),
        *one("pkg.T.test_table (i=2)", "fail", parent_test_id=parent),
        Event(
            test_id="pkg.T.test_table/case.one",
            test_status="inprogress",
            parent_test_id=parent,
        ),
        *one(
            "pkg.T.test_table/case.one/deep.er",
            "success",
            parent_test_id="pkg.T.test_table/case.one",
        ),
        Event(test_id="pkg.T.test_table/case.one", test_status="success"),
        *one("unrelated-id", "success", parent_test_id=parent),
        Event(test_id=parent, test_status="fail"),
    ]
    root = ET.fromstring(convert(stream(*events)))
    names = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert names == [
        ("pkg.T", "test_table (i=1.5)"),
        ("pkg.T", "test_table (i=2)"),
        ("pkg.T", "test_table/case.one/deep.er"),
        ("pkg.T", "test_table/case.one"),
        ("pkg.T", "test_table / unrelated-id"),
        ("pkg.T", "test_table"),
    ]
    by_name = {c.get("name"): c for c in root.iter("testcase")}
    assert props(by_name["test_table (i=2)"]) == {"subunit.parent_test_id": parent}
    deep = props(by_name["test_table/case.one/deep.er"])
    assert deep == {"subunit.parent_test_id": "pkg.T.test_table/case.one"}
    assert props(by_name["test_table / unrelated-id"])["subunit.test_id"] == (
        "unrelated-id"
    )


# -- the command ------------------------------------------------------------------


def test_exit_1_for_failing_tests_0_with_no_verdict_and_0_for_a_green_run():
    failing = stream(*one("pkg.T.test_a", "fail"))
    assert run(stdin=failing).returncode == 1
    result = run("--no-verdict", stdin=failing)
    assert result.returncode == 0
    ET.fromstring(result.stdout)
    assert run(stdin=stream(*one("a.b", "success"))).returncode == 0
    incomplete = stream(Event(test_id="a.b", test_status="inprogress"))
    assert run(stdin=incomplete).returncode == 1
    assert run(stdin=stream(*one("a.b", "uxsuccess"))).returncode == 1


def test_an_empty_stream_is_a_well_formed_empty_report():
    result = run(stdin=b"")
    assert result.returncode == 0
    root = ET.fromstring(result.stdout)
    assert root.get("tests") == "0" and root.find("testsuite").get("tests") == "0"


def test_usage_and_io_errors_follow_the_exit_code_contract(tmp_path):
    result = run("--xfail", "maybe")
    assert result.returncode == 2
    result = run(str(tmp_path / "missing.subunit"))
    assert result.returncode == 3
    assert result.stderr.decode().startswith("subunit2junitxml: ")
    assert b"Traceback" not in result.stderr
    result = run("-o", str(tmp_path / "no" / "such" / "dir.xml"), stdin=b"")
    assert result.returncode == 3
    help_text = run("--help").stdout.decode()
    assert "exit codes:" in help_text and "--no-verdict" in help_text


def test_in_process_main_writes_the_file_atomically_and_leaves_no_temporary(tmp_path):
    source = tmp_path / "in.subunit"
    source.write_bytes(outcome_stream())
    target = tmp_path / "report.xml"
    target.write_text("old report")
    code = subunit2junitxml.main([str(source), "-o", str(target)])
    assert code == 1
    root = ET.parse(target).getroot()
    assert root.get("tests") == "6"
    assert "report incomplete" not in target.read_text()
    assert sorted(os.listdir(tmp_path)) == ["in.subunit", "report.xml"]


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM])
def test_a_run_cut_off_half_way_leaves_a_well_formed_report_that_is_not_green(
    tmp_path, kill
):
    target = tmp_path / "report.xml"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            MODULE,
            "-o",
            str(target),
            "--snapshot-interval",
            "0.05",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        proc.stdin.write(
            stream(*one("pkg.T.test_done", "success"))
            + stream(Event(test_id="pkg.T.test_running", test_status="inprogress"))
        )
        proc.stdin.flush()
        time.sleep(0.2)
        proc.stdin.write(stream(*one("pkg.T.test_done2", "success")))
        proc.stdin.flush()

        def snapshot_has_both():
            try:
                return b"test_done2" in target.read_bytes()
            except FileNotFoundError:
                return False

        assert _wait_for(snapshot_has_both)
        proc.send_signal(kill)
        proc.wait(timeout=20)
    finally:
        proc.kill()
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()
    if kill == signal.SIGTERM:
        assert proc.returncode == 130
    root = ET.parse(target).getroot()
    found = {c.get("name"): c for c in root.iter("testcase")}
    assert found["test_done"].find("error") is None
    assert found["test_done2"].find("error") is None
    assert found["test_running"].find("error").get("type") == "Incomplete"
    assert found["report incomplete"].find("error") is not None
    assert int(root.get("errors")) == 2
    assert int(root.get("tests")) == len(found)
    assert [n for n in os.listdir(tmp_path)] == ["report.xml"]


def test_output_to_a_non_regular_file_is_written_not_replaced(tmp_path):
    result = run("-o", os.devnull, stdin=stream(*one("a.b", "success")))
    assert result.returncode == 0
    assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)


any_id = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=20,
)


@given(
    st.lists(
        st.tuples(
            any_id,
            st.sampled_from(["success", "fail", "skip", "xfail", "uxsuccess", None]),
            st.binary(max_size=40),
            st.sampled_from(["stdout", "stderr", "traceback", "reason", "x.bin"]),
        ),
        max_size=8,
    ),
    st.binary(max_size=40),
)
def test_any_ids_and_bytes_give_a_well_formed_report_with_matching_counts(tests, stray):
    events = []
    for test_id, status, content, name in tests:
        events.append(Event(test_id=test_id, test_status="inprogress"))
        events.append(attach(test_id, name, content, mime="text/plain"))
        if status is not None:
            events.append(Event(test_id=test_id, test_status=status))
    report = convert(stray + stream(*events))
    root = ET.fromstring(report)
    children = list(root.iter("testcase"))
    pairs = {(c.get("classname"), c.get("name")) for c in children}
    assert len(pairs) == len(children) == int(root.get("tests"))
    for key in ("failure", "error", "skipped"):
        count = sum(c.find(key) is not None for c in children)
        assert count == int(root.get(key if key == "skipped" else key + "s"))


def test_write_report_works_in_process_and_replaces_the_file_whole(tmp_path):
    target = tmp_path / "report.xml"
    target.write_text("<stale/>")
    stream = encode(test_id="m.T.ok", test_status="success") + encode(
        test_id="m.T.bad", test_status="fail"
    )
    writer = write_report(io.BytesIO(stream), str(target), snapshot_interval=0)
    assert writer.failing
    suite = ET.parse(target).getroot().find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xml"]  # no temp left
