"""junitxml2subunit: real-world shaped reports, directories, timestamps, hostile XML."""

from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subunit2 import decode_bytes
from subunit2.aggregate import Aggregator
from subunit2.filters import junitxml2subunit
from subunit2.junit_reader import (
    EPOCH,
    JUnitError,
    parse_duration,
    parse_timestamp,
    read_junit,
)

UTC = datetime.timezone.utc
MODULE = "subunit2.filters.junitxml2subunit"
SAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "samples", "junit")


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        input=stdin,
        capture_output=True,
        timeout=120,
    )


def records_of(data: bytes) -> list:
    """TestRecords of a subunit stream, in completion order."""
    records = []
    aggregator = Aggregator(records.append)
    for event in decode_bytes(data):
        aggregator.status(**event.kwargs())
    aggregator.stopTestRun()
    return records


def read_xml(document: bytes, read_size: int = 65536, **limits) -> list:
    records = []
    aggregator = Aggregator(records.append)
    read_junit(io.BytesIO(document), aggregator, read_size=read_size, **limits)
    aggregator.stopTestRun()
    return records


def sample(name: str) -> list:
    result = run(os.path.join(SAMPLES, name))
    assert result.returncode == 0, result.stderr
    return records_of(result.stdout)


def text_of(record, name: str) -> str:
    return record.attachments[name].content.decode()


def test_pytest_shaped_report():
    records = {r.test_id: r for r in sample("pytest.xml")}
    assert {k: r.status for k, r in records.items()} == {
        "tests.test_math.test_add": "success",
        "tests.test_math.test_div[1.5-0]": "fail",
        "tests.test_math.test_fixture": "fail",
        "tests.test_math.test_later": "skip",
        "tests.test_math.test_known_bug": "skip",
        "tests.test_math.TestCls.test_unicode_ü": "success",
    }
    div = records["tests.test_math.test_div[1.5-0]"]
    assert text_of(div, "traceback").endswith("tests/test_math.py:9: ZeroDivisionError")
    assert "computing 1.5 / 0" in text_of(div, "stdout")
    fixture = text_of(records["tests.test_math.test_fixture"], "traceback")
    assert fixture.endswith('failed on setup with "RuntimeError: no db"\n')
    assert text_of(records["tests.test_math.test_later"], "reason") == (
        "not implemented yet"
    )
    assert text_of(records["tests.test_math.TestCls.test_unicode_ü"], "stderr") == (
        "warning: ☃ & <tag>"
    )
    start = datetime.datetime(2024, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    assert records["tests.test_math.test_add"].start_time == start
    assert div.start_time == start + datetime.timedelta(milliseconds=1)
    assert div.duration == datetime.timedelta(milliseconds=250)


def test_unittest_shaped_report_with_a_testsuite_root_and_cdata():
    records = {r.test_id: r for r in sample("unittest.xml")}
    assert [r.status for r in records.values()] == ["success", "fail", "skip"]
    failed = records["test_shapes.ShapeTest.test_perimeter"]
    assert text_of(failed, "traceback").endswith("AssertionError: 12 != 13\n")
    # The message is in the body already, so it is not appended again.
    assert text_of(failed, "traceback").count("12 != 13") == 1
    assert text_of(failed, "stdout") == "square built"
    assert text_of(records["test_shapes.ShapeTest.test_volume"], "reason") == "2D only"


def test_surefire_shaped_report_keeps_flaky_and_rerun_elements_as_attachments():
    records = {r.test_id: r for r in sample("surefire.xml")}
    flaky = records["com.example.CalculatorTest.flakyNetwork"]
    assert flaky.status == "success"
    first = text_of(flaky, "flakyFailure-1")
    assert first.startswith("java.net.SocketException: connection reset\n")
    assert "at com.example.Net.call(Net.java:42)" in first
    assert "--- system-out ---\nfirst attempt output" in first
    assert "TimeoutException: timed out" in text_of(flaky, "flakyError-1")
    failed = records["com.example.CalculatorTest.dividesByZero"]
    assert failed.status == "fail"
    assert "but was: <3>" in text_of(failed, "rerunFailure-1")
    assert "--- system-err ---\nrerun stderr" in text_of(failed, "rerunFailure-1")
    assert "IllegalStateException: boom" in text_of(failed, "rerunError-1")
    no_time = records["com.example.CalculatorTest.noTime"]
    assert no_time.status == "success" and no_time.duration == datetime.timedelta(0)
    # No suite timestamp anywhere: the clock starts at the Unix epoch.
    assert records["com.example.CalculatorTest.addsNumbers"].start_time == EPOCH


def test_go_shaped_report_and_suite_level_output_without_a_test_id():
    result = run(os.path.join(SAMPLES, "go.xml"))
    records = {r.test_id: r for r in records_of(result.stdout)}
    prefix = "github.com/example/project/pkg/calc."
    assert records[prefix + "TestTable/negative"].status == "fail"
    tb = text_of(records[prefix + "TestTable/negative"], "traceback")
    assert tb == "    calc_test.go:31: got -1, want 1\nFailed\n"
    stray = [e for e in decode_bytes(result.stdout) if e.test_id is None]
    assert b"".join(e.file_bytes for e in stray) == b"goos: linux\ngoarch: amd64"
    assert {e.file_name for e in stray} == {"stdout"}


def test_directories_are_walked_recursively_in_sorted_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "deep").mkdir(parents=True)

    def report(test_name: str) -> str:
        return f'<testsuite><testcase classname="c" name="{test_name}"/></testsuite>'

    (tmp_path / "b" / "z.xml").write_text(report("b_z"))
    (tmp_path / "a" / "y.XML").write_text(report("a_y"))
    (tmp_path / "a" / "deep" / "x.xml").write_text(report("a_deep_x"))
    (tmp_path / "a" / "notes.txt").write_text("not xml")
    (tmp_path / "top.xml").write_text(report("top"))
    result = run(str(tmp_path))
    assert result.returncode == 0, result.stderr
    order = [r.test_id for r in records_of(result.stdout)]
    assert order == ["c.a_deep_x", "c.a_y", "c.b_z", "c.top"]
    assert run(str(tmp_path / "b"), str(tmp_path / "top.xml")).returncode == 0


def test_nested_testsuites_and_the_suite_clock():
    document = textwrap.dedent(
        """\
        <testsuites>
          <testsuite name="outer" timestamp="2024-01-01T00:00:00">
            <testcase classname="o" name="first" time="1.5"/>
            <testsuite name="inner">
              <testcase classname="i" name="second" time="2"/>
            </testsuite>
            <testcase classname="o" name="third" time="garbage"/>
          </testsuite>
          <testsuite name="later" timestamp="2024-06-01T12:00:00+02:00">
            <testcase classname="l" name="fourth" time="0.25"/>
          </testsuite>
        </testsuites>
        """
    ).encode()
    records = read_xml(document)
    start = datetime.datetime(2024, 1, 1, tzinfo=UTC)
    times = [(r.test_id, r.start_time - start, r.duration) for r in records[:3]]
    seconds = datetime.timedelta(seconds=1)
    assert times == [
        ("o.first", 0 * seconds, 1.5 * seconds),
        ("i.second", 1.5 * seconds, 2 * seconds),
        ("o.third", 3.5 * seconds, 0 * seconds),
    ]
    assert records[3].start_time == datetime.datetime(2024, 6, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-01-02T03:04:05", datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (
            "2024-01-02T03:04:05.5Z",
            datetime.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
        ),
        (
            "2024-01-02 03:04:05-01:30",
            datetime.datetime(2024, 1, 2, 4, 34, 5, tzinfo=UTC),
        ),
        ("yesterday", None),
        ("2024-13-01T00:00:00", None),
        (None, None),
    ],
)
def test_timestamps_are_read_as_utc(value, expected):
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1.5", 1.5),
        ("1,234.5", 1234.5),
        ("", 0.0),
        (None, 0.0),
        ("-3", 0.0),
        ("nan", 0.0),
        ("inf", 0.0),
        ("abc", 0.0),
    ],
)
def test_missing_or_bad_time_is_zero_not_an_error(value, expected):
    assert parse_duration(value) == expected


# -- hostile and broken input -----------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuite><testcase classname="c" name="&lol4;"/></testsuite>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<testsuite><testcase classname="c" name="x"><system-out>&secret;</system-out>
</testcase></testsuite>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE testsuite SYSTEM "http://example.invalid/evil.dtd">
<testsuite><testcase classname="c" name="x"/></testsuite>
"""


@pytest.mark.parametrize(
    "document, message",
    [
        (BILLION_LAUGHS, "DOCTYPE declarations are refused"),
        (EXTERNAL_ENTITY, "DOCTYPE declarations are refused"),
        (EXTERNAL_DTD, "DOCTYPE declarations are refused"),
        (b"<testsuite>&undefined;</testsuite>", "undefined entity"),
        (b"<testsuite><testcase name='a\x01'/></testsuite>", "not well-formed"),
        (b"<html><body/></html>", "not a JUnit XML document"),
        (b"", "no element found"),
        (b"<testsuite>" + b"<a>" * 300 + b"</a>" * 300 + b"</testsuite>", "deeper"),
        (b"<testsuite><testcase name='a'/><testcase name=", "line 1"),
    ],
)
def test_hostile_or_broken_documents_are_refused_with_a_clear_message(
    document, message
):
    with pytest.raises(JUnitError, match=message):
        read_xml(document)


def test_a_refused_document_exits_3_keeps_what_came_before_and_is_not_green(tmp_path):
    good = tmp_path / "a.xml"
    good.write_text('<testsuite><testcase classname="c" name="ok"/></testsuite>')
    truncated = tmp_path / "b.xml"
    truncated.write_text(
        '<testsuite><testcase classname="c" name="before"/><testcase classname="c" '
        'name="cut"><system-out>partial'
    )
    evil = tmp_path / "c.xml"
    evil.write_bytes(BILLION_LAUGHS)
    after = tmp_path / "d.xml"
    after.write_text('<testsuite><testcase classname="c" name="after"/></testsuite>')
    result = run(str(tmp_path))
    assert result.returncode == 3
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("junitxml2subunit: ")
    assert "b.xml: line 1" in lines[0] and "(and 1 more)" in lines[0]
    records = records_of(result.stdout)
    assert [(r.test_id, r.status) for r in records] == [
        ("c.ok", "success"),
        ("c.before", "success"),
        ("junitxml.parser", "fail"),
        ("junitxml.parser", "fail"),
        ("c.after", "success"),
    ]
    assert "DOCTYPE" in text_of(records[3], "Parser Error")
    assert "lol" not in result.stdout.decode("utf-8", "replace")


def test_a_huge_token_is_refused_with_bounded_memory():
    document = b'<testsuite><testcase classname="c" name="' + b"x" * 2048
    with pytest.raises(JUnitError, match="exceeds 1024 bytes"):
        read_xml(document + b'"/></testsuite>', max_token=1024, read_size=256)


def test_text_over_the_limit_is_cut_with_a_note():
    document = (
        b'<testsuite><testcase classname="c" name="big"><system-out>'
        + b"y" * 5000
        + b"</system-out><system-err>zz</system-err></testcase></testsuite>"
    )
    [record] = read_xml(document, max_text=1000)
    out = text_of(record, "stdout")
    assert out.startswith("y" * 1000 + "\n[junitxml2subunit: 4000 more characters")
    assert "stderr" not in record.attachments or text_of(record, "stderr") != "zz"


# Peak memory from VmHWM, which belongs to this program's own address space:
# getrusage's ru_maxrss survives exec, so it can report the parent's (pytest's) peak.
MEMORY_PROBE = """
import sys
from subunit2.filters import junitxml2subunit
code = junitxml2subunit.main([sys.argv[1], "-o", sys.argv[2]])
with open("/proc/self/status") as status:
    peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
print(code, peak)
"""


@pytest.mark.parametrize("shape", ["text", "attribute", "cases"])
def test_a_huge_document_is_handled_in_bounded_memory(tmp_path, shape):
    path = tmp_path / "huge.xml"
    # 50 MB of one element; the many-cases shape is smaller to keep the suite fast.
    size = (10 if shape == "cases" else 50) * 1024 * 1024
    with open(path, "wb") as out:
        if shape == "cases":
            case = b'<testcase classname="pkg.Class" name="test_%07d" time="0.1"/>\n'
            out.write(b"<testsuite>")
            for n in range(size // len(case % 0)):
                out.write(case % n)
            out.write(b"</testsuite>")
        else:
            opening = b'<testsuite><testcase classname="c" name="huge"'
            body = b"<>&" if shape == "attribute" else b"abc"
            chunk = (b"&lt;&gt;&amp;" if shape == "attribute" else body) * 100000
            out.write(opening + (b' x="' if shape == "attribute" else b"><system-out>"))
            for _ in range(size // len(chunk)):
                out.write(chunk)
            out.write(b'"/>' if shape == "attribute" else b"</system-out></testcase>")
            out.write(b"</testsuite>")
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(path), str(tmp_path / "out")],
        capture_output=True,
        timeout=120,
    )
    code, peak_kib = map(int, result.stdout.split())
    assert peak_kib < 150 * 1024, peak_kib
    if shape == "attribute":
        assert code == 3 and b"exceeds" in result.stderr
    elif shape == "text":
        assert code == 0
        [record] = records_of((tmp_path / "out").read_bytes())
        assert len(record.attachments["stdout"].content) < 17 * 1024 * 1024
        assert b"more characters not kept" in record.attachments["stdout"].content
    else:
        assert code == 0
        assert len(records_of((tmp_path / "out").read_bytes())) > 100000


def test_usage_errors_exit_2_and_missing_files_exit_3(tmp_path):
    assert run("--max-text", "0").returncode == 2
    assert run("--bogus").returncode == 2
    result = run(str(tmp_path / "missing.xml"))
    assert result.returncode == 3
    assert b"Traceback" not in result.stderr
    assert "exit codes:" in run("--help").stdout.decode()


def test_standard_input_is_read_in_process(monkeypatch, capsysbinary):
    document = b'<testsuite><testcase classname="c" name="t"/></testsuite>'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(document)))
    assert junitxml2subunit.main([]) == 0
    [record] = records_of(capsysbinary.readouterr().out)
    assert (record.test_id, record.status) == ("c.t", "success")


SAMPLE_BYTES = [
    open(os.path.join(SAMPLES, name), "rb").read()
    for name in sorted(os.listdir(SAMPLES))
]


@given(
    st.sampled_from(SAMPLE_BYTES),
    st.integers(0, 10**6),
    st.binary(max_size=20),
    st.integers(0, 40),
)
def test_damaged_documents_either_convert_or_are_refused_never_crash(
    document, where, junk, cut
):
    where %= len(document) + 1
    damaged = document[:where] + junk + document[where + cut :]
    records = []
    try:
        read_junit(io.BytesIO(damaged), Aggregator(records.append), read_size=97)
    except JUnitError as error:
        assert str(error)
