"""Nothing is lost: corrupt, truncated and foreign bytes never hide a valid packet.

SPEC section 3: the accepted packets' bytes plus the non-subunit bytes, in order, are
exactly the input; failed candidates that looked like packets are reported in-band;
the decoder never raises and its memory stays bounded.

Packets in these tests come from the shipped encoder, which is canonical (shortest
numbers, sorted tags), so re-encoding a decoded packet event gives back its bytes.
They always carry a test id, so no packet can be mistaken for non-subunit data.
"""

from __future__ import annotations

import gc
import random
import re
import tracemalloc

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import (
    PARSER,
    SPEC_FLAGS,
    SPEC_MAX_PACKET,
    SPEC_VERSION,
    decode_chunks,
    ev_bytes,
    is_text,
    merge_text,
    packet_events,
    spec_frame,
    spec_number,
    spec_string,
)

from subunit2 import Decoder, Event, decode_bytes, encode
from subunit2.decoder import REPORT_LIMIT

CHUNK = 65536


# --- helpers ----------------------------------------------------------------------


def reconstruct(found, name="stdout") -> bytes:
    """Packets (re-encoded) and non-subunit data, in order; reports left out."""
    out = []
    for event in found:
        if event.test_id == PARSER:
            continue
        out.append(event.file_bytes if is_text(event, name) else ev_bytes(event))
    return b"".join(out)


def packets_of(found, name="stdout"):
    return [e for e in found if e.test_id != PARSER and not is_text(e, name)]


def reports_of(found, stream: bytes):
    """Check every parser-error report's shape; return the stream offsets reported.

    A report is two events on ``subunit.parser``: the candidate's bytes as a
    ``Packet data`` attachment, then status fail with a ``Parser Error`` text
    attachment naming the stream offset.  It sits in stream order: everything
    delivered before it reconstructs the stream up to that offset.
    """
    offsets = []
    for index, event in enumerate(found):
        if event.test_id != PARSER or event.test_status == "fail":
            continue
        assert event == Event(
            test_id=PARSER,
            file_name="Packet data",
            file_bytes=event.file_bytes,
            eof=True,
            mime_type="application/octet-stream",
        )
        error = found[index + 1]
        assert error == Event(
            test_id=PARSER,
            test_status="fail",
            file_name="Parser Error",
            file_bytes=error.file_bytes,
            eof=True,
            mime_type=error.mime_type,
        )
        assert error.mime_type.startswith("text/plain")
        data = event.file_bytes
        before = len(reconstruct(found[:index]))
        assert data[:1] == b"\xb3"
        assert stream[before : before + len(data)] == data
        message = error.file_bytes.decode("utf-8")
        assert str(before) in re.findall(r"\d+", message), message
        offsets.append(before)
    fails = [e for e in found if e.test_id == PARSER and e.test_status == "fail"]
    assert len(fails) == len(offsets)
    return offsets


def message_without_numbers(found) -> str:
    error = [e for e in found if e.test_id == PARSER and e.test_status == "fail"][0]
    return re.sub(r"\d+", "#", error.file_bytes.decode("utf-8"))


# --- arbitrary input --------------------------------------------------------------

packet_like = st.one_of(
    st.binary(max_size=30),
    st.sampled_from([b"\xb3", b"\xb3\x20", b"\xb3\x29\x01", b"\xb3\x20\x00\x0c"]),
    st.builds(
        lambda flags, length: b"\xb3" + flags.to_bytes(2, "big") + length,
        st.integers(0x2000, 0x2FFF),
        st.binary(min_size=1, max_size=4),
    ),
    packet_events(max_file_size=16).map(ev_bytes),
)
noisy_streams = st.lists(packet_like, max_size=12).map(b"".join)


@given(st.binary(max_size=600), st.data())
def test_arbitrary_bytes_never_raise_and_lose_nothing(data, draw):
    cuts = draw.draw(st.lists(st.integers(0, len(data)), max_size=10))
    found = decode_chunks(data, cuts)
    assert reconstruct(found) == data
    reports_of(found, data)
    decode_chunks(data, cuts, name=None)


@given(noisy_streams, st.data())
def test_packet_like_noise_never_raises_and_loses_nothing(stream, draw):
    cuts = draw.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    found = decode_chunks(stream, cuts)
    assert reconstruct(found) == stream
    reports_of(found, stream)


@given(noisy_streams, st.data())
def test_chunking_never_changes_packets_reports_or_text(stream, draw):
    cuts = draw.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    assert merge_text(decode_chunks(stream, cuts)) == merge_text(decode_bytes(stream))


@given(noisy_streams)
def test_one_byte_feeds_never_change_packets_reports_or_text(stream):
    whole = merge_text(decode_bytes(stream))
    assert merge_text(decode_chunks(stream, range(len(stream)))) == whole


@given(noisy_streams)
def test_dropping_non_subunit_data_keeps_the_same_packets_and_reports(stream):
    kept = [e for e in decode_bytes(stream) if not is_text(e)]
    assert decode_bytes(stream, non_subunit_name=None) == kept


# --- damaged valid streams --------------------------------------------------------


@st.composite
def damaged_streams(draw):
    """A stream of valid packets with garbage, truncated packets and bit-flipped
    packets among them.  Returns (stream, intact events in order, offsets of damaged
    candidates that must be reported)."""
    stream = b""
    intact = []
    damaged = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["packet", "packet", "garbage", "cut", "flip"]))
        if kind == "garbage":
            stream += draw(st.binary(min_size=1, max_size=20))
            continue
        event = draw(packet_events(max_file_size=24))
        packet = ev_bytes(event)
        if kind == "packet":
            intact.append(event)
            stream += packet
            continue
        # An ASCII byte first, so the damaged candidate's 0xB3 cannot be read as
        # the continuation of a UTF-8 character in the garbage before it.
        stream += b"\n"
        damaged.append(len(stream))
        if kind == "cut":
            stream += packet[: draw(st.integers(2, len(packet) - 1))]
        else:
            # Any bit after the signature and the version nibble.
            bit = draw(st.integers(4, 8 * (len(packet) - 1) - 1))
            flipped = bytearray(packet)
            flipped[1 + bit // 8] ^= 0x80 >> (bit % 8)
            stream += bytes(flipped)
    return stream, intact, damaged


@given(damaged_streams(), st.data())
def test_every_intact_packet_survives_damage_around_it(case, draw):
    stream, intact, damaged = case
    cuts = draw.draw(st.lists(st.integers(0, len(stream)), max_size=8))
    found = decode_chunks(stream, cuts)
    assert packets_of(found) == intact
    assert reconstruct(found) == stream
    reported = reports_of(found, stream)
    assert set(damaged) <= set(reported)


@given(st.lists(packet_events(max_file_size=24), min_size=1, max_size=6), st.data())
def test_truncating_a_stream_keeps_every_packet_before_the_cut(batch, draw):
    packets = [ev_bytes(e) for e in batch]
    stream = b"".join(packets)
    end = draw.draw(st.integers(0, len(stream)))
    found = decode_bytes(stream[:end])
    whole = complete = 0  # bytes and number of the packets wholly before the cut
    for packet in packets:
        if whole + len(packet) > end:
            break
        whole += len(packet)
        complete += 1
    assert packets_of(found) == batch[:complete]
    assert reconstruct(found) == stream[:end]
    reported = reports_of(found, stream[:end])
    if end - whole >= 2:  # signature and version visible: a truncated candidate
        assert whole in reported


# --- each kind of failed candidate ------------------------------------------------

ID = SPEC_FLAGS["test_id"]
GOOD = encode(test_id="good", test_status="success")


def _with_crc(packet: bytes, crc: int) -> bytes:
    return packet[:-4] + crc.to_bytes(4, "big")


def _bad_crc():
    packet = encode(test_id="x", test_status="fail")
    return _with_crc(packet, int.from_bytes(packet[-4:], "big") ^ 1)


FAILED_CANDIDATES = {
    "bad crc": _bad_crc(),
    "length below minimum": spec_frame(SPEC_VERSION, b"", length=7),
    "length zero": spec_frame(SPEC_VERSION, b"", length=0),
    "length over maximum": spec_frame(
        SPEC_VERSION, b"", length_width=4, length=SPEC_MAX_PACKET + 1
    ),
    "length shorter than its own header": spec_frame(
        SPEC_VERSION, b"", length_width=2, length=8
    ),
    "string overruns packet": spec_frame(SPEC_VERSION | ID, spec_number(9) + b"abc"),
    "bytes left over": spec_frame(SPEC_VERSION | ID, spec_string("abc") + b"zz"),
    "bytes left over after a route code": spec_frame(
        SPEC_VERSION | ID | SPEC_FLAGS["route_code"],
        spec_string("abc") + spec_string("0/1") + b"z",
    ),
    "bytes left over after tags": spec_frame(
        SPEC_VERSION | SPEC_FLAGS["test_tags"],
        spec_number(1) + spec_string("tag") + b"z",
    ),
    "bytes left over after a parent": spec_frame(
        SPEC_VERSION | ID | SPEC_FLAGS["parent_test_id"],
        spec_string("abc") + spec_string("parent") + b"z",
    ),
    "bytes left over after file content": spec_frame(
        SPEC_VERSION | SPEC_FLAGS["file"],
        spec_string("f") + spec_number(2) + b"ab" + b"z",
    ),
    "file content overruns": spec_frame(
        SPEC_VERSION | SPEC_FLAGS["file"], spec_string("f") + spec_number(50) + b"abc"
    ),
    "tag count overruns": spec_frame(
        SPEC_VERSION | SPEC_FLAGS["test_tags"], spec_number(5) + spec_string("t")
    ),
    "timestamp overruns": spec_frame(SPEC_VERSION | SPEC_FLAGS["timestamp"], b"\0\0"),
    "bad utf-8": spec_frame(SPEC_VERSION | ID, spec_string(b"\xff\xfeabc")),
    "truncated utf-8": spec_frame(SPEC_VERSION | ID, spec_string(b"ab\xe4\xbc")),
    "nul in test id": spec_frame(SPEC_VERSION | ID, spec_string(b"a\x00b")),
    "nul in tag": spec_frame(
        SPEC_VERSION | SPEC_FLAGS["test_tags"], spec_number(1) + spec_string(b"t\x00")
    ),
    "nul in mime type": spec_frame(
        SPEC_VERSION | SPEC_FLAGS["mime_type"], spec_string(b"text/\x00")
    ),
    "nul in file name": spec_frame(
        SPEC_VERSION | SPEC_FLAGS["file"], spec_string(b"\x00") + spec_number(0)
    ),
    "nul in route code": spec_frame(
        SPEC_VERSION | SPEC_FLAGS["route_code"], spec_string(b"0\x00")
    ),
    "nul in parent": spec_frame(
        SPEC_VERSION | ID | SPEC_FLAGS["parent_test_id"],
        spec_string("child") + spec_string(b"\x00parent"),
    ),
    "nanoseconds out of range": spec_frame(
        SPEC_VERSION | SPEC_FLAGS["timestamp"], bytes(4) + spec_number(10**9)
    ),
}


@pytest.mark.parametrize("kind", sorted(FAILED_CANDIDATES))
def test_a_failed_candidate_is_reported_and_kept_as_data(kind):
    bad = FAILED_CANDIDATES[kind]
    stream = b"before\n" + bad + GOOD + b"after"
    for cuts in ([], range(len(stream))):
        found = decode_chunks(stream, cuts)
        assert reports_of(found, stream) == [len(b"before\n")]
        assert packets_of(found) == [Event(test_id="good", test_status="success")]
        assert reconstruct(found) == stream
        (data,) = [e.file_bytes for e in found if e.file_name == "Packet data"]
        # The candidate's bytes: the whole claimed packet when its length is
        # sound, at least the header when the length itself is bad.
        assert bad.startswith(data) or data.startswith(bad)
        assert len(data) >= 4


def test_a_failed_candidate_with_a_sound_length_reports_the_whole_packet():
    for kind in ("bad crc", "bad utf-8", "nul in test id", "bytes left over"):
        bad = FAILED_CANDIDATES[kind]
        found = decode_bytes(b"x" + bad)
        (data,) = [e.file_bytes for e in found if e.file_name == "Packet data"]
        assert data == bad, kind


def test_the_error_says_what_was_wrong():
    kinds = ["bad crc", "length over maximum", "string overruns packet", "bad utf-8"]
    kinds += ["nul in test id", "nanoseconds out of range"]
    messages = {
        message_without_numbers(decode_bytes(FAILED_CANDIDATES[k])) for k in kinds
    }
    truncated = message_without_numbers(decode_bytes(GOOD[:-1]))
    assert len(messages | {truncated}) == len(kinds) + 1


@pytest.mark.parametrize("keep", range(2, len(GOOD)))
def test_a_packet_truncated_at_end_of_stream_is_reported_and_kept(keep):
    stream = b"log line\n" + GOOD[:keep]
    found = decode_bytes(stream)
    assert reports_of(found, stream) == [len(b"log line\n")]
    (data,) = [e.file_bytes for e in found if e.file_name == "Packet data"]
    assert data == GOOD[:keep]
    assert packets_of(found) == []
    assert reconstruct(found) == stream


def test_a_lone_signature_at_end_of_stream_is_kept_as_data():
    stream = GOOD + b"\xb3"
    found = decode_bytes(stream)
    assert packets_of(found) == [Event(test_id="good", test_status="success")]
    assert reconstruct(found) == stream


# --- UTF-8 text -------------------------------------------------------------------

# Characters whose UTF-8 form holds 0xB3 as a continuation byte, in each position.
B3_CHARS = ["\u00f3", "\u00b3", "\u4f33", "\u30b3", "\U0001f333", "\u0333", "\uff33"]
B3_CHARS += [chr(cp) for cp in (0x3CC0, 0x10CC0, 0xECC0, 0x33000)]
# Bytes that make a following 0xB3 look like a version-2 header.
HEADER_LIKE = [chr(c) for c in range(0x20, 0x30)]


def test_the_b3_characters_really_contain_b3():
    for char in B3_CHARS:
        assert b"\xb3" in char.encode("utf-8"), char


@pytest.mark.parametrize("char", B3_CHARS)
@pytest.mark.parametrize("follow", [" ", "!", ",", "(", "/"])
def test_b3_inside_utf8_text_that_is_no_packet_is_just_text(char, follow):
    text = f"Est\u00e1 {char}{follow} bien {char}{follow}{char}".encode()
    for stream in (text, GOOD + text, text + GOOD):
        for cuts in ([], range(len(stream))):
            found = decode_chunks(stream, cuts)
            assert reports_of(found, stream) == []
            assert reconstruct(found) == stream


@pytest.mark.parametrize("follow", HEADER_LIKE)
def test_the_same_b3_after_ascii_is_reported(follow):
    # Control: without the UTF-8 lead byte in front, the candidate is reported.
    stream = f"abc\u00f3{follow}xyz".encode().replace(b"\xc3", b"c")
    assert reports_of(decode_bytes(stream), stream) == [len(b"abcc")]


utf8_text = st.text(
    st.one_of(
        st.sampled_from(B3_CHARS + HEADER_LIKE),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=60,
).map(lambda t: t.encode("utf-8"))


@given(utf8_text, st.data())
def test_valid_utf8_text_is_never_reported(text, draw):
    cuts = draw.draw(st.lists(st.integers(0, len(text)), max_size=8))
    found = decode_chunks(text, cuts)
    assert [e for e in found if e.test_id == PARSER] == []
    assert reconstruct(found) == text


@given(st.lists(st.one_of(utf8_text, packet_events().map(ev_bytes)), max_size=6))
def test_utf8_text_between_packets_is_never_reported(parts):
    stream = b"".join(parts)
    found = decode_bytes(stream)
    assert [e for e in found if e.test_id == PARSER] == []
    assert reconstruct(found) == stream
    assert [ev_bytes(e) for e in packets_of(found)] == [
        p for p in parts if p[:1] == b"\xb3"
    ]


@pytest.mark.parametrize(
    "lead", [b"\xc3", b"\xe4", b"\xe4\xbc", b"\xf0", b"\xf0\x9f", b"\xf0\x9f\x8c"]
)
def test_a_valid_packet_after_a_lone_utf8_lead_byte_is_decoded(lead):
    stream = b"text " + lead + GOOD + b" more"
    for cuts in ([], [len(b"text ") + len(lead)], range(len(stream))):
        found = decode_chunks(stream, cuts)
        assert packets_of(found) == [Event(test_id="good", test_status="success")]
        assert reconstruct(found) == stream


# --- corrupt candidates never hide packets -----------------------------------------


def _claiming(length: int) -> bytes:
    """A version-2 header that claims ``length`` bytes (and will fail its CRC)."""
    return b"\xb3\x20\x00" + spec_number(length)


def test_a_candidate_claiming_past_a_valid_packet_does_not_hide_it():
    stream = b"\n" + _claiming(200) + b"junk" + GOOD + b"x" * 300
    found = decode_bytes(stream)
    assert packets_of(found) == [Event(test_id="good", test_status="success")]
    assert reports_of(found, stream) == [1]
    assert reconstruct(found) == stream


def test_a_truncated_candidate_claiming_past_a_valid_packet_does_not_hide_it():
    stream = b"\n" + _claiming(5000) + b"junk" + GOOD + b"tail"
    for cuts in ([], range(0, len(stream), 3)):
        found = decode_chunks(stream, cuts)
        assert packets_of(found) == [Event(test_id="good", test_status="success")]
        assert reports_of(found, stream) == [1]
        assert reconstruct(found) == stream


def test_a_valid_packet_overlapping_the_end_of_a_candidate_is_decoded():
    # The candidate's claimed bytes end in the middle of the valid packet.
    prefix = b"\n" + _claiming(12)
    stream = prefix + b"ab" + GOOD + b"!"
    assert len(prefix) - 1 + 12 < len(prefix) + 2 + len(GOOD)
    found = decode_bytes(stream)
    assert packets_of(found) == [Event(test_id="good", test_status="success")]
    assert reconstruct(found) == stream


def test_a_packet_nested_in_a_corrupted_packet_is_found():
    inner = Event(test_id="inner", test_status="fail")
    outer = encode(test_id="outer", file_name="log", file_bytes=ev_bytes(inner))
    broken = _with_crc(outer, int.from_bytes(outer[-4:], "big") ^ 0xFFFF)
    stream = b"\n" + broken + GOOD
    found = decode_bytes(stream)
    assert packets_of(found) == [inner, Event(test_id="good", test_status="success")]
    assert reports_of(found, stream)[0] == 1
    assert reconstruct(found) == stream


@given(
    st.lists(
        st.one_of(
            packet_events(max_file_size=16).map(ev_bytes),
            st.binary(min_size=1, max_size=30).map(lambda b: b.replace(b"\xb3", b"")),
        ),
        max_size=8,
    ),
    st.integers(0, 400),
    st.data(),
)
def test_each_packet_waits_at_most_for_a_long_candidate_before_it(parts, extra, draw):
    # SPEC 3: a long claimed length delays the decision only until that many bytes
    # (or end of stream) arrive.  A packet after the candidate is due by the feed
    # that brings both its own last byte and the candidate's last claimed byte.
    lead = b"log\n"
    body = b"".join(parts)
    length = 8 + extra + draw.draw(st.integers(0, len(body)))
    header = _claiming(length)
    assume(header.count(b"\xb3") == 1)
    stream = lead + header + body
    candidate_end = len(lead) + length
    due = []
    cuts = set(draw.draw(st.lists(st.integers(1, len(stream)), max_size=6)))
    position = len(lead) + len(header)
    for part in parts:
        # Cuts often fall in the first bytes of a part: inside a packet's header.
        near = draw.draw(st.lists(st.integers(1, 5), max_size=1))
        cuts.update(position + k for k in near if position + k < len(stream))
        position += len(part)
        if part[:1] == b"\xb3":
            due.append(max(position, candidate_end))
    cuts = sorted(cuts)
    decoder = Decoder()
    delivered = 0
    fed = 0
    for cut in cuts + [len(stream)]:
        delivered += len(packets_of(decoder.feed(stream[fed:cut])))
        fed = cut
        assert delivered >= sum(1 for d in due if d <= fed), f"after {fed} bytes"
    found = decoder.close()
    assert delivered + len(packets_of(found)) == len(due)


def test_after_a_long_candidate_fails_a_split_packet_is_not_delayed():
    length = 100000
    header = _claiming(length)
    # The candidate's claimed bytes end exactly where the first GOOD starts.
    stream = b"\n" + header + b"y" * (length - len(header)) + GOOD + GOOD
    first = 1 + length
    decoder = Decoder()
    found = decoder.feed(stream[:1])
    assert decoder.feed(stream[1:10]) == []
    # The feed that completes the candidate also brings the first GOOD's 0xB3.
    found += decoder.feed(stream[10 : first + 1])
    assert reports_of(found, stream) == [1]
    assert packets_of(decoder.feed(stream[first + 1 : first + len(GOOD)])) == [
        Event(test_id="good", test_status="success")
    ]
    assert packets_of(decoder.feed(stream[first + len(GOOD) :])) == [
        Event(test_id="good", test_status="success")
    ]


# --- non-subunit data in chunks ----------------------------------------------------


def test_a_10kb_run_of_text_fed_at_once_is_one_event():
    text = (b"a line of ordinary log output\n" * 400)[:10240]
    assert decode_bytes(text) == [Event(file_name="stdout", file_bytes=text)]


def test_a_10kb_run_of_utf8_text_with_b3_bytes_fed_at_once_is_one_event():
    # (No 0xB3 here is followed by a byte that would make a version-2 header.)
    text = ("Canci\u00f3n \u4f33\u30b3\U0001f333x log\n" * 400).encode()[:10240]
    text = text[: len(text.decode("utf-8", "ignore").encode())]
    assert b"\xb3" in text
    assert decode_bytes(text) == [Event(file_name="stdout", file_bytes=text)]


def test_text_fed_in_pieces_comes_out_in_at_most_one_event_per_feed():
    text = bytes(range(256)).replace(b"\xb3", b"") * 40
    decoder = Decoder()
    for start in range(0, len(text), 1000):
        assert len(decoder.feed(text[start : start + 1000])) <= 1
    assert len(decoder.close()) <= 1


# --- memory -----------------------------------------------------------------------


def _traced_feed(chunks, check_every=16):
    """Feed chunks, dropping events; return (max memory held between feeds, peak)."""
    decoder = Decoder()
    gc.collect()
    tracemalloc.start()
    try:
        held = 0
        for index, chunk in enumerate(chunks):
            decoder.feed(chunk)
            if index % check_every == 0:
                held = max(held, tracemalloc.get_traced_memory()[0])
        decoder.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return held, peak


def test_memory_stays_bounded_over_50mb_of_non_subunit_data():
    chunk = (b"some output from a test process that is not subunit\n" * 1300)[:CHUNK]
    count = 50 * 1024 * 1024 // CHUNK
    held, peak = _traced_feed(chunk for _ in range(count))
    # Nothing like the 50 MB seen: one maximum packet plus a few reads at most.
    assert held <= SPEC_MAX_PACKET + 4 * CHUNK
    assert peak <= SPEC_MAX_PACKET + 8 * CHUNK


def test_memory_stays_bounded_over_random_bytes_full_of_candidates():
    rng = random.Random(20240601)
    data = bytes(rng.getrandbits(8) for _ in range(1 << 20))
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    # 6 MB of random bytes in 64 KiB reads: about one candidate per 4 KB, many
    # of them claiming lengths of megabytes, so the decoder often waits.
    held, _ = _traced_feed(c for _ in range(6) for c in chunks)
    assert held <= SPEC_MAX_PACKET + 4 * CHUNK


def test_overlapping_long_candidates_do_not_multiply_memory():
    # Fifty candidates, a few bytes apart, each claiming a megabyte that the input
    # holds: every one fails its CRC and is reported.  Memory must stay within one
    # maximum packet plus a few copies of the input, not grow with the number of
    # overlapping candidates times their claimed length.
    claimed = 1000000
    stream = (b"\n" + _claiming(claimed)) * 50
    stream += b"x" * claimed
    decoder = Decoder()
    gc.collect()
    tracemalloc.start()
    try:
        found = decoder.feed(stream) + decoder.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(reports_of(found, stream)) == 50
    assert reconstruct(found) == stream
    assert peak <= SPEC_MAX_PACKET + 4 * len(stream)


def _claiming_a_file(length: int) -> bytes:
    """A header whose one field, file content, fills a claimed ``length`` exactly.

    Nothing in its first bytes shows it to be wrong, so only its CRC can decide.
    """
    content = length - (1 + 2 + len(spec_number(length)) + 1 + 3 + 4)
    flags = (SPEC_VERSION | SPEC_FLAGS["file"]).to_bytes(2, "big")
    return b"\xb3" + flags + spec_number(length) + b"\x00" + spec_number(content)


def test_a_4mb_candidate_delays_the_decision_only_until_its_bytes_arrive():
    length = 4000000
    header = _claiming_a_file(length)
    text = b"plain text while we wait\n" * 3000
    decoder = Decoder()
    fed = [b"\n", header]
    assert decoder.feed(b"\n") == [Event(file_name="stdout", file_bytes=b"\n")]
    assert decoder.feed(header) == []
    total = 1 + len(header)
    candidate_end = 1 + length
    while total + len(text) < candidate_end:
        assert decoder.feed(text) == [], f"decided early, at {total} bytes"
        fed.append(text)
        total += len(text)
    last = text[: candidate_end - total]  # exactly the last claimed byte
    fed.append(last)
    found = [Event(file_name="stdout", file_bytes=b"\n")] + decoder.feed(last)
    stream = b"".join(fed)
    assert reports_of(found, stream) == [1]
    assert reconstruct(found) == stream
    # From here on, nothing waits: text is delivered as it comes.
    assert decoder.feed(b"next\n") == [Event(file_name="stdout", file_bytes=b"next\n")]


def test_a_stray_signature_in_live_text_is_judged_within_the_report_window():
    # "ó" is C3 B3 in UTF-8; "pasó el" gives B3 20 65 6C, a v2 header claiming
    # 11296 bytes.  Its first REPORT_LIMIT bytes already show that its fields
    # cannot fill that length, so the packet after it is not held back for 11 KB.
    line = "el test falló. Luego pasó el siguiente\n".encode()
    filler = b"-" * REPORT_LIMIT
    decoder = Decoder()
    found = decoder.feed(line) + decoder.feed(filler) + decoder.feed(GOOD)
    assert packets_of(found) == [Event(test_id="good", test_status="success")]
    stream = line + filler + GOOD
    assert reconstruct(found) == stream
    assert reports_of(found, stream) == []  # inside UTF-8 text: just text


def test_a_plausible_candidate_still_waits_for_its_bytes():
    # The other side of the early verdict: a header whose fields could fill its
    # length is never given up before its CRC can be checked.
    header = _claiming_a_file(20000)
    decoder = Decoder()
    assert decoder.feed(header + b"-" * 5000 + GOOD) == []


def test_an_early_verdict_is_the_same_however_the_stream_is_cut():
    # A candidate condemned by its first bytes gets the same report whether it is
    # judged early (cut into small reads) or with everything in hand.
    bad = _claiming(50000) + b"\x00" * (REPORT_LIMIT + 100)
    stream = b"log\n" + bad + GOOD
    whole = decode_bytes(stream)
    for step in (1, 7, 64, REPORT_LIMIT, 1000):
        cut = decode_chunks(stream, range(step, len(stream), step))
        assert [e for e in cut if e.test_id] == [e for e in whole if e.test_id]
        assert reconstruct(cut) == stream
    (error,) = [e.file_bytes for e in whole if e.file_name == "Parser Error"]
    assert b"fields do not fit" in error
    assert f"first {REPORT_LIMIT} of its 50000 bytes".encode() in error
