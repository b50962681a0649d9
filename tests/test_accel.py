"""The compiled codec is picked when built, and SUBUNIT2_PURE_PYTHON=1 turns it off."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from typing import Optional

import pytest

import subunit2
from subunit2 import _accel, decoder, encoder, reader, writer

BUILT = importlib.util.find_spec("subunit2._speedups") is not None

PROBE = (
    "import subunit2, subunit2.decoder as d, subunit2.encoder as e; "
    "print(d.IMPLEMENTATION, e.IMPLEMENTATION, "
    "subunit2.Decoder.__module__, e.Encoder.__module__, subunit2.encode.__module__)"
)


def probe(pure: Optional[str] = None) -> list:
    env = dict(os.environ)
    env.pop(_accel.PURE_PYTHON_ENV, None)
    if pure is not None:
        env[_accel.PURE_PYTHON_ENV] = pure
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_the_active_implementation_follows_the_environment():
    pure = os.environ.get(_accel.PURE_PYTHON_ENV) == "1"
    expected = "python" if pure or not BUILT else "c"
    assert _accel.IMPLEMENTATION == expected
    assert decoder.IMPLEMENTATION == encoder.IMPLEMENTATION == expected
    if expected == "c":
        assert decoder.Decoder is _accel.speedups.Decoder
        assert encoder.Encoder is _accel.speedups.Encoder
    else:
        assert decoder.Decoder is decoder.PyDecoder
        assert encoder.Encoder is encoder.PyEncoder
        assert encoder.encode is encoder.py_encode


def test_public_names_point_at_the_active_implementation():
    assert subunit2.Decoder is decoder.Decoder is reader.Decoder
    assert subunit2.encode is encoder.encode
    assert writer.Encoder is encoder.Encoder


def test_pure_python_env_forces_the_python_codec():
    assert probe("1") == [
        "python",
        "python",
        "subunit2.decoder",
        "subunit2.encoder",
        "subunit2.encoder",
    ]


@pytest.mark.skipif(not BUILT, reason="subunit2._speedups is not built")
def test_the_compiled_codec_is_used_when_built():
    speedups = "subunit2._speedups"
    assert probe() == ["c", "c", speedups, speedups, speedups]
    assert probe("0") == probe()


def test_pure_python_classes_stay_importable_by_name():
    from subunit2.decoder import PyDecoder
    from subunit2.encoder import PyEncoder, py_encode

    packet = py_encode(test_id="t", test_status="success")
    assert PyEncoder().encode(test_id="t", test_status="success") == packet
    assert PyDecoder().feed(packet)[0].test_id == "t"


@pytest.mark.skipif(
    os.environ.get("CI", "").lower() not in ("1", "true", "yes"),
    reason="only CI promises a C compiler",
)
def test_ci_builds_the_compiled_codec():
    # CI runs the suite against both codecs: that is only true if this one exists.
    assert BUILT, "subunit2._speedups was not built: the package build lost its C step"
