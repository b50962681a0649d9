"""Facts of the v2/2.1 wire format (SPEC section 2) shared by encoder and decoder."""

from __future__ import annotations

from .status import STATUSES

SIGNATURE = 0xB3
VERSION_2 = 0x2000
VERSION_MASK = 0xF000

FLAG_TEST_ID = 0x0800
FLAG_ROUTE_CODE = 0x0400
FLAG_TIMESTAMP = 0x0200
FLAG_RUNNABLE = 0x0100
FLAG_TAGS = 0x0080
FLAG_FILE_CONTENT = 0x0040
FLAG_MIME_TYPE = 0x0020
FLAG_EOF = 0x0010
FLAG_PARENT = 0x0008  # protocol 2.1
STATUS_MASK = 0x0007

#: Smallest and largest whole-packet sizes (signature through CRC).
MIN_PACKET = 8
MAX_PACKET = 4194303
#: Largest value a variable-length number can hold (4-byte form).
MAX_NUMBER = 1073741823
#: Seconds fit an unsigned 32-bit field.
MAX_SECONDS = 0xFFFFFFFF

#: Status name -> 3-bit code, and back (code 0 is "no status", None).
STATUS_CODES: dict = {name: code for code, name in enumerate(STATUSES, start=1)}
STATUS_CODES[None] = 0
STATUS_NAMES: tuple = (None,) + STATUSES


def encode_number(value: int) -> bytes:
    """The shortest variable-length form of ``value`` (0..MAX_NUMBER)."""
    if value < 0x40:
        if value < 0:
            raise ValueError(f"number {value} is negative")
        return bytes((value,))
    if value < 0x4000:
        return (value | 0x4000).to_bytes(2, "big")
    if value < 0x400000:
        return (value | 0x800000).to_bytes(3, "big")
    if value <= MAX_NUMBER:
        return (value | 0xC0000000).to_bytes(4, "big")
    raise ValueError(f"number {value} is larger than {MAX_NUMBER}")
