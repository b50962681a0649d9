"""subunit2: streaming test results in the subunit v2 format and its 2.1 extension.

The API in brief::

    from subunit2 import StreamWriter, read_stream, Summary
    writer = StreamWriter(sys.stdout)               # status() -> packets
    writer.status(test_id="t", test_status="success")
    summary = Summary()
    read_stream(sys.stdin, summary)                 # packets -> status()
    summary.wasSuccessful()
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers
    from .aggregate import Aggregator, Attachment, TestRecord
    from .decoder import PARSER_TEST_ID, Decoder
    from .encoder import EncodeError, encode
    from .event import Event, deliver, deliver_all
    from .failfast import FailFast
    from .fanout import FanOut
    from .merge import RoutePrefixer, merge_streams, prefix_route
    from .reader import decode_bytes, read_stream, read_stream_async
    from .result import StreamResult, accepts_parent, as_target
    from .routing import Router
    from .status import (
        FAILING_STATUSES,
        FINAL_STATUSES,
        INTERIM_STATUSES,
        STATUSES,
        is_failing,
        is_final,
    )
    from .summary import Summary
    from .tagging import Tagger
    from .timestamping import Timestamper
    from .writer import StreamWriter


__version__ = "0.1.0"

__all__ = [
    "Aggregator",
    "Attachment",
    "Decoder",
    "EncodeError",
    "Event",
    "FAILING_STATUSES",
    "FINAL_STATUSES",
    "FailFast",
    "FanOut",
    "INTERIM_STATUSES",
    "PARSER_TEST_ID",
    "RoutePrefixer",
    "Router",
    "STATUSES",
    "StreamResult",
    "StreamWriter",
    "Summary",
    "Tagger",
    "TestRecord",
    "Timestamper",
    "accepts_parent",
    "as_target",
    "decode_bytes",
    "deliver",
    "deliver_all",
    "encode",
    "is_failing",
    "is_final",
    "merge_streams",
    "prefix_route",
    "read_stream",
    "read_stream_async",
]

# Names load on first use (PEP 562), so a command pays only for the modules it needs:
# importing everything eagerly costs each process start tens of milliseconds.
_HOMES = {
    "Aggregator": "aggregate",
    "Attachment": "aggregate",
    "TestRecord": "aggregate",
    "PARSER_TEST_ID": "decoder",
    "Decoder": "decoder",
    "EncodeError": "encoder",
    "encode": "encoder",
    "Event": "event",
    "deliver": "event",
    "deliver_all": "event",
    "FailFast": "failfast",
    "FanOut": "fanout",
    "RoutePrefixer": "merge",
    "merge_streams": "merge",
    "prefix_route": "merge",
    "decode_bytes": "reader",
    "read_stream": "reader",
    "read_stream_async": "reader",
    "StreamResult": "result",
    "accepts_parent": "result",
    "as_target": "result",
    "Router": "routing",
    "FAILING_STATUSES": "status",
    "FINAL_STATUSES": "status",
    "INTERIM_STATUSES": "status",
    "STATUSES": "status",
    "is_failing": "status",
    "is_final": "status",
    "Summary": "summary",
    "Tagger": "tagging",
    "Timestamper": "timestamping",
    "StreamWriter": "writer",
}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'subunit2' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_HOMES))
