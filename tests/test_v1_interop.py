"""v1 interop with python-subunit, in both directions, through its Python API.

python-subunit's v1 parser (``subunit.ProtocolTestCase``, replayed into a v2
recorder by ``testtools.ExtendedToStreamDecorator``) and ours must agree on every
test's outcome, tags, end time and attachments, and on the non-v1 text; and v1 text
written by python-subunit's ``TestProtocolClient`` or by our writer must read the
same in both parsers.
"""

from __future__ import annotations

import datetime
import io
import unittest

import pytest
import subunit
import testtools
from hypothesis import given, settings
from hypothesis import strategies as st
from test_v1_writer import ids, runs
from testtools.content import Content, text_content
from testtools.content_type import ContentType

from subunit2 import StreamResult
from subunit2.v1_reader import V1Parser
from subunit2.v1_writer import V1Writer

UTC = datetime.timezone.utc


class Events(StreamResult):
    def __init__(self):
        self.events = []

    def status(self, **kwargs):
        self.events.append(
            {k: v for k, v in kwargs.items() if v is not None and v is not False}
        )


def _mime(value):
    return None if value is None else value.replace(" ", "").replace('"', "")


def summary(events):
    """Per test: final status, its tags and time, attachments (joined bytes)."""
    tests = {}
    for e in events:
        if "test_id" not in e:
            continue
        t = tests.setdefault(e["test_id"], {"files": {}})
        if "file_name" in e:
            name = e["file_name"]
            mime, data = t["files"].get(name, (None, b""))
            t["files"][name] = (
                mime or _mime(e.get("mime_type")),
                data + e["file_bytes"],
            )
        if e.get("test_status") not in (None, "inprogress"):
            t["status"] = e["test_status"]
            t["tags"] = set(e.get("test_tags") or ())
            t["time"] = e.get("timestamp")
    return tests


def ours(data: bytes):
    result = Events()
    parser = V1Parser(result)
    parser.feed(data)
    parser.close()
    text = b"".join(e["file_bytes"] for e in result.events if "test_id" not in e)
    return summary(result.events), text


def theirs(data: bytes):
    result = Events()
    passthrough = io.BytesIO()
    case = subunit.ProtocolTestCase(io.BytesIO(data), passthrough=passthrough)
    decorator = testtools.ExtendedToStreamDecorator(result)
    decorator.startTestRun()
    case.run(decorator)
    decorator.stopTestRun()
    return summary(result.events), passthrough.getvalue()


HAND_WRITTEN = [
    b"test: a\nsuccess: a\n",
    b"time: 2024-01-02 03:04:05Z\ntest a\ntags: x y\nprinted\nfailure a\n",
    b"test: a\nerror: a [\nTraceback (most recent call last):\n ]x\n]\n",
    b"testing: a\nskip: a [\nno network\n]\n",
    b"test: a\nxfail: a\ntest: b\nuxsuccess: b\ntest: c\nsuccessful: c\n",
    b"junk before\ntest: a\ntime: 2024-01-02 03:04:06.250000Z\nsuccess: a [\nok\n]\n",
    (
        b"test: a\nfailure: a [ multipart\n"
        b"Content-Type: application/octet-stream\nlog\n4\r\nab\nc6\r\n\x00\xff\x10\n"
        b"\r\n0\r\n"
        b"Content-Type: application/octet-stream\nbin\n0\r\n]\n"
    ),
    b"test: a\nsuccess: b\nsuccess: a\n",
    b"success: a\ntest: a\ntest: b\nsuccess: a\n",
    b"progress: 3\nprogress: push\ntest: a\nprogress: +1\nsuccess: a\nprogress: pop\n",
]


def agree(data: bytes):
    """Both parsers' results for ``data``, asserted equal; returns ours.

    With no ``time:`` line before an outcome, python-subunit stamps the event with
    the wall clock and we leave it unstamped: those times are not compared.
    """
    mine, text = ours(data)
    other, other_text = theirs(data)
    for test_id, record in mine.items():
        if record.get("time") is None and test_id in other:
            other[test_id]["time"] = None
    assert (mine, text) == (other, other_text)
    return mine, text


@pytest.mark.parametrize("data", HAND_WRITTEN)
def test_our_parser_reads_v1_as_python_subunit_does(data):
    agree(data)


class _Case(testtools.TestCase):
    __test__ = False  # run by a test below, not collected

    def test_pass(self):
        pass

    def test_fail(self):
        self.addDetail("log", text_content("some output\n]\n"))
        self.fail("boom")

    def test_error(self):
        raise RuntimeError("kaput")

    def test_skip(self):
        self.skipTest("not today")

    def test_xfail(self):
        self.expectFailure("known", self.assertEqual, 1, 2)

    def test_binary_detail(self):
        blob = Content(
            ContentType("application", "octet-stream"), lambda: [b"\x00\xff\n]\n"]
        )
        self.addDetail("blob", blob)


def test_v1_written_by_python_subunit_reads_the_same_in_both_parsers():
    out = io.BytesIO()
    client = subunit.TestProtocolClient(out)
    client.time(datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    client.tags({"suite"}, set())
    suite = unittest.TestSuite(
        [_Case(name) for name in sorted(n for n in dir(_Case) if n.startswith("test_"))]
    )
    suite.run(client)
    data = out.getvalue()
    assert b"[ multipart" in data
    mine, text = agree(data)
    assert sorted(t["status"] for t in mine.values()) == [
        "fail",
        "fail",
        "skip",
        "success",
        "success",
        "xfail",
    ]


def test_our_v1_output_parses_cleanly_in_python_subunit():
    t = [datetime.datetime(2024, 1, 2, 3, 4, s, 1000 * s, tzinfo=UTC) for s in range(9)]
    out = io.BytesIO()
    writer = V1Writer(out)
    writer.startTestRun()
    status = writer.status
    status(test_id="a", test_status="inprogress", timestamp=t[0], route_code="0")
    status(test_id="b", test_status="inprogress", timestamp=t[1], test_tags={"x"})
    status(file_name="stdout", file_bytes=b"run output\n")
    status(
        test_id="a",
        file_name="traceback",
        file_bytes=b"Traceback\n]\n",
        mime_type="text/x-traceback; charset=utf8",
        timestamp=t[2],
        route_code="0",
    )
    status(
        test_id="a",
        file_name="core",
        file_bytes=b"\x00\xff\n]\n",
        eof=True,
        timestamp=t[2],
        route_code="0",
    )
    status(test_id="a", test_status="fail", timestamp=t[3], route_code="0")
    status(test_id="b", test_status="xfail", timestamp=t[4], test_tags={"x", "y"})
    status(test_id="c", test_status="skip", file_name="reason", file_bytes=b"no")
    status(test_id="d", test_status="uxsuccess", timestamp=t[5])
    status(test_id="e", test_status="success", timestamp=t[6], parent_test_id="d")
    status(test_id="f", test_status="inprogress", timestamp=t[7])
    writer.stopTestRun()
    data = out.getvalue()
    mine, text = agree(data)
    assert text == b"run output\n"
    assert {k: v["status"] for k, v in mine.items()} == {
        "a": "fail",
        "b": "xfail",
        "c": "skip",
        "d": "uxsuccess",
        "e": "success",
        "f": "fail",  # still running at the end: written as "error"
    }
    assert mine["a"]["files"]["traceback"] == (
        "text/x-traceback;charset=utf8",
        b"Traceback\n]\n",
    )
    assert mine["a"]["files"]["core"] == ("application/octet-stream", b"\x00\xff\n]\n")
    assert mine["a"]["time"] == t[3]
    assert mine["b"]["tags"] == {"x", "y"}


_TEXTUAL = ("reason", "traceback")
_binary_mimes = st.sampled_from([None, "image/png", "application/x-thing"])


@settings(max_examples=50)
@given(runs(mimes=_binary_mimes, names=ids.filter(lambda n: n not in _TEXTUAL)))
def test_any_run_we_write_as_v1_reads_the_same_in_python_subunit(run):
    events, _ = run
    out = io.BytesIO()
    writer = V1Writer(out)
    writer.startTestRun()
    for event in events:
        writer.status(**event)
    writer.stopTestRun()
    agree(out.getvalue())
