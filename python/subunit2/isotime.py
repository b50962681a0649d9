"""ISO 8601 timestamps as the v1 protocol and the command line spell them.

v1 streams carry ``time: 2024-01-02 03:04:05.678901Z``; producers also write a ``T``
separator, an offset instead of ``Z``, no fraction, or no zone at all (meaning UTC).
:func:`parse_timestamp` accepts all of those and returns an aware UTC datetime that
fits a v2 packet (1970..2106), or raises ValueError.
"""

from __future__ import annotations

import datetime
import re

from .wire import MAX_SECONDS

__all__ = ["parse_timestamp"]

_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_LATEST = _EPOCH + datetime.timedelta(seconds=MAX_SECONDS)
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?",
    re.ASCII,
)


def parse_timestamp(text: str) -> datetime.datetime:
    """``YYYY-MM-DD[( |T)HH:MM[:SS[.frac]]][Z|+HH[:MM]|-HH[:MM]]`` as aware UTC.

    No zone means UTC.  Digits of a fraction past microseconds are dropped.  Raises
    ValueError for anything else, or for a time a v2 packet cannot hold.
    """
    match = _ISO.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    year, month, day, hour, minute, second, frac, _z, sign, oh, om = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    zone = _UTC
    if sign is not None:
        offset = datetime.timedelta(hours=int(oh), minutes=int(om or 0))
        if offset >= datetime.timedelta(hours=24):
            raise ValueError(f"bad UTC offset in {text!r}")
        zone = datetime.timezone(-offset if sign == "-" else offset)
    try:
        value = datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=zone,
        )
    except ValueError as error:
        raise ValueError(f"bad timestamp {text!r}: {error}") from None
    value = value.astimezone(_UTC)
    if not _EPOCH <= value <= _LATEST:
        raise ValueError(f"timestamp {text!r} is outside 1970..2106")
    return value
