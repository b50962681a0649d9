"""The C reader (through subunit2._speedups) agrees with the Python decoder exactly.

Same events, same reports (wording included), same non-subunit runs, for the same
input cut into the same feeds: valid streams, junk, truncations, bit flips,
malformed fields behind a correct CRC, long candidates and UTF-8 text.  These run
whichever implementation SUBUNIT2_PURE_PYTHON selects, since both classes are
named directly.
"""

from __future__ import annotations

import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import ev_bytes, events, spec_frame

from subunit2.decoder import REPORT_LIMIT, PyDecoder
from subunit2.encoder import py_encode

speedups = pytest.importorskip("subunit2._speedups")


def recrc(packet: bytes) -> bytes:
    """``packet`` with its CRC made right again (so its fields get parsed)."""
    return packet[:-4] + zlib.crc32(packet[:-4]).to_bytes(4, "big")


def run(decoder_class, data: bytes, cuts, name="stdout"):
    decoder = decoder_class(name)
    found = []
    last = 0
    for cut in sorted(set(cuts)) + [len(data)]:
        found.extend(decoder.feed(data[last:cut]))
        last = cut
    offset = decoder.offset
    return found + decoder.close(), offset


def assert_agree(data: bytes, cuts=(), name="stdout"):
    expected = run(PyDecoder, data, cuts, name)
    assert run(speedups.Decoder, data, cuts, name) == expected
    return expected[0]


# --- what noisy streams are made of ---------------------------------------------


@st.composite
def mangled(draw):
    """A packet from the encoder, possibly damaged in one of the ways that matter."""
    packet = ev_bytes(draw(events(max_file_size=300)))
    how = draw(st.sampled_from(["keep", "flip", "cut", "field", "field", "length"]))
    if how == "flip":
        at = draw(st.integers(0, len(packet) - 1))
        packet = bytearray(packet)
        packet[at] ^= 1 << draw(st.integers(0, 7))
        return bytes(packet)
    if how == "cut":
        return packet[: draw(st.integers(1, len(packet) - 1))]
    if how == "field":
        # A damaged field behind a correct CRC: NUL, bad UTF-8, overruns, leftovers.
        at = draw(st.integers(3, max(3, len(packet) - 5)))
        value = draw(st.sampled_from([0x00, 0x80, 0xC0, 0xFF, 0x3F, 0x7F, 0xED]))
        packet = bytearray(packet)
        packet[at] = value
        return recrc(bytes(packet))
    if how == "length":
        # Claim another length, long ones included.
        claimed = draw(st.sampled_from([7, 9, 64, 300, 20000, 4194303, 4194304]))
        if claimed < 0x40:
            head = bytes([claimed])
        elif claimed < 0x4000:
            head = (claimed | 0x4000).to_bytes(2, "big")
        elif claimed < 0x400000:
            head = (claimed | 0x800000).to_bytes(3, "big")
        else:
            head = (claimed | 0xC0000000).to_bytes(4, "big")
        return packet[:3] + head + packet[4:]
    return packet


junk = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"\xb3",
            b"\xb3\x29",
            b"\xb3\x2f\xff",
            b"\xb3\x20\x00\x03",
            "caf\u00e9 \u00b3 \u4f33".encode(),
            b"\xe4\xbc\xb3\xb3\x29\x01\x0c",
            b"\xf0\x9f\x8c\xb3",
        ]
    ),
    st.builds(lambda n: b"\xb3\x29\x01\x80" + bytes(n), st.integers(0, 600)),
)

noisy = st.lists(st.one_of(mangled(), junk), max_size=10).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(noisy, st.data())
def test_c_reader_agrees_on_noisy_streams_cut_anywhere(stream, data):
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=8))
    assert_agree(stream, cuts)


@settings(max_examples=100, deadline=None)
@given(noisy)
def test_c_reader_agrees_when_non_subunit_data_is_dropped(stream):
    assert_agree(stream, name=None)


@settings(max_examples=100, deadline=None)
@given(st.lists(events(), max_size=8).map(lambda evs: b"".join(map(ev_bytes, evs))))
def test_c_reader_agrees_byte_by_byte(stream):
    assert_agree(stream, range(len(stream)))


def test_c_reader_agrees_on_random_bytes_in_random_reads():
    rng = random.Random(6)
    for _ in range(30):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 5000)))
        cuts = [rng.randrange(len(data) + 1) for _ in range(rng.randrange(6))]
        assert_agree(data, cuts)


def test_c_reader_agrees_on_bit_flipped_streams():
    rng = random.Random(7)
    clean = b"".join(
        py_encode(
            test_id=f"t{n}", test_status="success", test_tags={"a", "b"}, route_code="0"
        )
        for n in range(20)
    ) + py_encode(test_id="big", file_name="log", file_bytes=b"x" * 70000)
    for _ in range(40):
        data = bytearray(clean)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        cuts = [rng.randrange(len(data) + 1) for _ in range(3)]
        assert_agree(bytes(data), cuts)


def test_c_reader_reports_a_long_candidate_the_same_way():
    # A 3-byte length claiming 300 KB: reported early on its first REPORT_LIMIT
    # bytes when they cannot fit, else when the stream ends.
    claim = b"\xb3\x29\x00\x84\x93\xe0" + bytes(REPORT_LIMIT)
    found = assert_agree(b"log " + claim + b" more", [5, 100])
    assert any(e.file_name == "Parser Error" for e in found)
    test_id = (300000 - 6 - 3 - 4) | 0x800000  # a test id filling the claim exactly
    waiting = b"\xb3\x28\x00\x84\x93\xe0" + test_id.to_bytes(3, "big") + b"a" * 500
    found = assert_agree(waiting, [3, 300])
    errors = [e.file_bytes for e in found if e.file_name == "Parser Error"]
    assert errors and errors[0].startswith(b"truncated packet: 300000 bytes claimed")


def test_c_reader_words_field_errors_as_python_does():
    # NUL, bad UTF-8 (short and long test ids), leftovers, bad nanoseconds: each
    # behind a correct CRC, after some text so buffer and packet offsets differ.
    bodies = [
        (0x2800, b"\x03a\x00b"),
        (0x2800, b"\x02\xff\xfe"),
        (0x2800, b"\x40\x41" + b"\xff" * 65),
        (0x2800, b"\x01ab"),
        (0x2200, b"\x00\x00\x00\x01\xff\xff\xff\xff"),
        (0x2200, b"\x00\x00\x00\x01"),
        (0x2080, b"\x02\x01a\x05a"),
        (0x2040, b"\x01f\x09abc"),
    ]
    for flags, body in bodies:
        stream = b"some text " + spec_frame(flags, body)
        for cuts in ([], [10], [3, 12]):
            found = assert_agree(stream, cuts)
            assert [e.file_name for e in found].count("Parser Error") == 1


def test_packet_offset_in_a_report_does_not_depend_on_the_feeds():
    stream = b"hello world" + spec_frame(0x2800, b"\x03a\x00b")
    whole = assert_agree(stream)
    split = assert_agree(stream, [11])
    assert whole == split
    assert b"packet offset 5 contains a NUL byte" in whole[-2].file_bytes
