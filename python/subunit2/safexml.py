"""XML both ways, safely: escaping text we write, and parsing documents we are given.

Writing: :func:`text` and :func:`attr` make any Python string safe inside an element
or a double-quoted attribute.  Characters XML 1.0 cannot hold at all (control
characters other than tab, newline and carriage return; U+FFFE and U+FFFF) are
replaced by a visible escape, ``\\x1b`` or ``\\uffff``, so output is always
well-formed.  Carriage returns, and in attributes tabs and newlines, are written as
character references so a parser gives them back unchanged.

Reading: :class:`StreamingParser` drives expat incrementally and refuses what a
hostile document could use against its reader:

* any DOCTYPE (so no entity declarations: no "billion laughs", no external
  entities, no external DTD fetch);
* a single token (start tag with its attributes, or a run of text between markup)
  that expat would have to hold in memory beyond ``max_token`` bytes;
* element nesting deeper than ``max_depth``.

Malformed XML (invalid characters, truncation, undefined entities) is refused too.
Every refusal raises :class:`XmlRefused` with a message naming the line and column.
"""

from __future__ import annotations

import re
from typing import Callable, Dict
from xml.parsers import expat

__all__ = [
    "MAX_DEPTH",
    "MAX_TOKEN",
    "StreamingParser",
    "XmlRefused",
    "attr",
    "clean",
    "parse_stream",
    "text",
]

#: Largest token (tag with attributes, or buffered text) expat may hold, in bytes.
MAX_TOKEN = 16 * 1024 * 1024
#: Deepest element nesting accepted.
MAX_DEPTH = 256

_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(value: str) -> str:
    """``value`` with every character XML 1.0 cannot hold made a visible escape."""
    if _INVALID.search(value) is None:
        return value
    return _INVALID.sub(_visible, value)


def text(value: str) -> str:
    """``value`` escaped for element content."""
    value = clean(value)
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


def attr(value: str) -> str:
    """``value`` escaped for a double-quoted attribute (whitespace preserved)."""
    value = text(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "\n" in value:
        value = value.replace("\n", "&#10;")
    if "\t" in value:
        value = value.replace("\t", "&#9;")
    return value


class XmlRefused(ValueError):
    """The document is malformed or uses a feature refused as unsafe."""


class StreamingParser:
    """Incremental, hostile-input-safe expat parser calling three handlers.

    ``start(tag, attributes)``, ``end(tag)`` and ``data(text)`` are called as the
    document arrives through :meth:`feed`; :meth:`close` checks that it ended
    properly.  Comments and processing instructions are ignored.  Memory is bounded
    by ``max_token`` plus whatever the handlers keep.
    """

    def __init__(
        self,
        start: Callable[[str, Dict[str, str]], object],
        end: Callable[[str], object],
        data: Callable[[str], object],
        *,
        max_token: int = MAX_TOKEN,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self._start = start
        self._end = end
        self._data = data
        self.max_token = max_token
        self.max_depth = max_depth
        self._depth = 0
        self._fed = 0
        self._mark = 0
        self._closed = False
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.buffer_size = 65536
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._refuse_doctype
        parser.EntityDeclHandler = self._refuse_entity
        parser.ExternalEntityRefHandler = self._refuse_external
        parser.StartElementHandler = self._on_start
        parser.EndElementHandler = self._on_end
        parser.CharacterDataHandler = self._on_data
        self._parser = parser

    def _where(self) -> str:
        line = self._parser.CurrentLineNumber
        return f"line {line}, column {self._parser.CurrentColumnNumber + 1}"

    def _refuse_doctype(self, *args) -> None:
        raise XmlRefused(
            f"{self._where()}: DOCTYPE declarations are refused (they allow entity "
            "expansion and external entities)"
        )

    def _refuse_entity(self, *args) -> None:
        raise XmlRefused(f"{self._where()}: entity declarations are refused")

    def _refuse_external(self, *args) -> int:
        raise XmlRefused(f"{self._where()}: external entities are refused")

    def _on_start(self, tag: str, attributes: Dict[str, str]) -> None:
        self._mark = self._parser.CurrentByteIndex
        self._depth += 1
        if self._depth > self.max_depth:
            raise XmlRefused(
                f"{self._where()}: elements nested deeper than {self.max_depth}"
            )
        self._start(tag, attributes)

    def _on_end(self, tag: str) -> None:
        self._mark = self._parser.CurrentByteIndex
        self._depth -= 1
        self._end(tag)

    def _on_data(self, value: str) -> None:
        self._mark = self._parser.CurrentByteIndex
        self._data(value)

    def _parse(self, data: bytes, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as error:
            message = expat.ErrorString(error.code)
            raise XmlRefused(
                f"line {error.lineno}, column {error.offset + 1}: {message}"
            ) from None
        except RecursionError:
            raise XmlRefused("document nested too deeply") from None

    def feed(self, data: bytes) -> None:
        """Parse the next piece of the document."""
        self._fed += len(data)
        self._parse(data, False)
        if self._fed - max(self._mark, 0) > self.max_token:
            raise XmlRefused(
                f"{self._where()}: a single tag or text run exceeds "
                f"{self.max_token} bytes"
            )

    def close(self) -> None:
        """Finish the document; raises :class:`XmlRefused` if it is incomplete."""
        if not self._closed:
            self._closed = True
            self._parse(b"", True)


def parse_stream(
    source,
    parser: StreamingParser,
    read_size: int = 65536,
) -> None:
    """Feed everything ``source.read`` returns to ``parser``, then close it."""
    while True:
        data = source.read(read_size)
        if not data:
            break
        parser.feed(data)
    parser.close()
