"""subunit2: streaming test results in the subunit v2 format and its 2.1 extension.

The API in brief::

    from subunit2 import StreamWriter, read_stream, Summary
    writer = StreamWriter(sys.stdout)               # status() -> packets
    writer.status(test_id="t", test_status="success")
    summary = Summary()
    read_stream(sys.stdin, summary)                 # packets -> status()
    summary.wasSuccessful()
"""

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
