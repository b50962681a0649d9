"""The compiled encoder writes the bytes and raises the errors PyEncoder does."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import events

from subunit2.encoder import EncodeError, PyEncoder, py_encode

speedups = pytest.importorskip("subunit2._speedups")

UTC = datetime.timezone.utc


@settings(max_examples=300, deadline=None)
@given(events(), st.booleans())
def test_c_encode_writes_the_python_bytes(event, v2_only):
    kwargs = event.kwargs()
    expected = py_encode(**kwargs, v2_only=v2_only)
    assert speedups.encode(**kwargs, v2_only=v2_only) == expected
    assert speedups.Encoder(v2_only=v2_only).encode(**kwargs) == expected
    assert speedups.Encoder(v2_only=v2_only).encode(*event) == expected


def test_c_encoder_splits_a_large_attachment_as_python_does():
    content = bytes(range(256)) * 40000  # 10 MB: three packets
    kwargs = dict(
        test_id="t",
        test_status="fail",
        file_name="log",
        file_bytes=content,
        eof=True,
        route_code="1",
        timestamp=datetime.datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert speedups.encode(**kwargs) == py_encode(**kwargs)
    kwargs["file_bytes"] = memoryview(content)[::2]  # not contiguous
    assert speedups.encode(**kwargs) == py_encode(**kwargs)


class Label(str):
    pass


class When(datetime.datetime):
    pass


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(test_id="t", test_tags=["b", "a"]),
        dict(test_id=Label("t"), mime_type=Label("text/plain")),
        dict(timestamp=When(2026, 1, 1, tzinfo=UTC)),
        dict(timestamp=datetime.datetime(2026, 1, 1, 3, tzinfo=datetime.timezone.max)),
        dict(file_name="f", file_bytes=bytearray(b"abc")),
        dict(test_tags=frozenset({"x\u00e9", "x", "\U0001f333"})),
        dict(test_tags=set(map(str, range(50)))),
        dict(runnable=0, eof=1),
    ],
)
def test_c_encoder_takes_the_unusual_arguments_python_takes(kwargs):
    assert speedups.encode(**kwargs) == py_encode(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(test_status="passed"),
        dict(test_status=3),
        dict(test_id=b"bytes"),
        dict(test_id="nul\x00"),
        dict(route_code="\ud800"),
        dict(test_tags="abc"),
        dict(test_tags={"a", 1}),
        dict(file_name="f"),
        dict(file_bytes=b"x"),
        dict(file_name="f", file_bytes="text"),
        dict(timestamp=datetime.datetime(2026, 1, 1)),
        dict(timestamp=datetime.datetime(1969, 12, 31, tzinfo=UTC)),
        dict(timestamp="2026-01-01"),
        dict(test_id="x" * 4194304),
    ],
)
def test_c_encoder_raises_the_python_errors(kwargs):
    with pytest.raises(EncodeError) as expected:
        PyEncoder().encode(**kwargs)
    with pytest.raises(EncodeError) as raised:
        speedups.encode(**kwargs)
    assert str(raised.value) == str(expected.value)


def test_c_encoder_rejects_unknown_and_repeated_arguments():
    with pytest.raises(TypeError):
        speedups.encode(test_idd="t")
    with pytest.raises(TypeError):
        speedups.Encoder().encode("t", test_id="t")
    with pytest.raises(TypeError):
        speedups.encode(*range(12))


def test_c_encoder_v2_only_is_an_attribute_like_pythons():
    enc = speedups.Encoder()
    assert enc.v2_only is False
    enc.v2_only = True
    assert enc.encode(test_id="t", parent_test_id="p") == py_encode(test_id="t")


@pytest.mark.parametrize("short", [8, 12, 13, 14, 15, 16, 17, 20, 30])
def test_c_encoder_splits_at_the_same_size_as_python(short):
    # Around the largest attachment one packet holds with these fields.
    content = b"y" * (4194303 - short - len("t") - 2 - len("log") - 2)
    kwargs = dict(test_id="t", file_name="log", file_bytes=content, test_status="skip")
    assert speedups.encode(**kwargs) == py_encode(**kwargs)
