"""Inline span markings: passages of a text that the originator withholds below a vetting level.

A portion's `text` (and an item's `title`) may mark a passage as needing more
vetting than the portion itself::

    The driver, [[SC: a serving port employee,]] books each crossing.

Syntax, deliberately small:

- a span opens with `[[`, then a vetting level of the profile (any case),
  then `:`; spaces after the `:` belong to the marker, not the passage;
- it closes at the first `]]`;
- the passage must hold some text, and spans do not nest;
- `[[` and `]]` are reserved: they may appear only as span markers. There is
  no escape; a text that needs literal double brackets cannot carry them.

Anything else (an opener without a level and `:`, an unknown level, a `[[`
inside a span, a `]]` outside one, a span never closed) is a load error, so a
malformed marker is never shown to a reader as if it were text. Messages give
the character position, never the text.

A reader whose vetting meets a span's level reads the passage with the markers
removed; any other reader reads `[WITHHELD]` in its place
(`dissemination.masking`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dissemination.vocabulary import Vocabulary

__all__ = ["CLOSE", "OPEN", "Span", "check_spans", "has_spans", "parse_spans"]

OPEN = "[["
"""The opening marker of an inline span."""

CLOSE = "]]"
"""The closing marker of an inline span."""

_OPENER = re.compile(r"\[\[([A-Za-z][A-Za-z0-9 _-]{0,63}):[ \t]*")
"""`[[`, a level (a vocabulary term), `:` and the spaces after it."""


@dataclass(frozen=True, slots=True)
class Span:
    """One inline span of a text, by character offsets.

    Attributes:
        start: where the opening `[[` begins.
        body: where the passage begins (after `[[LEVEL:` and its spaces).
        close: where the closing `]]` begins (the passage ends here).
        level: the vetting level as written, stripped (canonicalise it with
            the profile's vocabulary).
    """

    start: int
    body: int
    close: int
    level: str

    @property
    def end(self) -> int:
        """Where the span ends: just after its closing `]]`."""
        return self.close + len(CLOSE)


def has_spans(text: str) -> bool:
    """Whether a text contains any span marker (cheap: two substring searches).

    Args:
        text: a portion's text or a title.

    Returns:
        True when `[[` or `]]` occurs in the text.
    """
    return OPEN in text or CLOSE in text


def parse_spans(text: str) -> tuple[Span, ...]:
    """Find the inline spans of a text, checking their syntax.

    Args:
        text: a portion's text or a title.

    Returns:
        The spans, in order of position (empty when the text has no markers).

    Raises:
        ValueError: a marker is malformed or unbalanced; the one-line message
            gives the 1-based character position and never quotes the text.
    """
    if not has_spans(text):
        return ()
    spans: list[Span] = []
    position = 0
    while True:
        opening = text.find(OPEN, position)
        closing = text.find(CLOSE, position)
        if opening < 0:
            if closing >= 0:
                raise ValueError(
                    f"inline marking `]]` at character {closing + 1} closes no `[[` span"
                )
            return tuple(spans)
        if 0 <= closing < opening:
            raise ValueError(f"inline marking `]]` at character {closing + 1} closes no `[[` span")
        header = _OPENER.match(text, opening)
        if header is None:
            raise ValueError(
                f"inline marking at character {opening + 1} does not start with "
                "a vetting level and `:` (write `[[LEVEL: passage]]`)"
            )
        body = header.end()
        close = text.find(CLOSE, body)
        if close < 0:
            raise ValueError(f"inline marking at character {opening + 1} is never closed with `]]`")
        nested = text.find(OPEN, body, close)
        if nested >= 0:
            raise ValueError(
                f"inline marking at character {nested + 1} is inside another; spans do not nest"
            )
        if not text[body:close].strip():
            raise ValueError(f"inline marking at character {opening + 1} marks no text")
        spans.append(Span(opening, body, close, header.group(1).strip()))
        position = close + len(CLOSE)


def check_spans(text: str, vocabulary: Vocabulary) -> str:
    """Validate the inline spans of a text against a profile's vetting levels.

    For use as a pydantic validator: returns the text unchanged when it is good.

    Args:
        text: a portion's text or a title.
        vocabulary: the profile whose vetting levels a span may name.

    Returns:
        The text, unchanged.

    Raises:
        ValueError: a marker is malformed or unbalanced, or names a level the
            profile does not know (the message gives the position, not the text).
    """
    for span in parse_spans(text):
        if vocabulary.canonical_vetting(span.level) is None:
            raise ValueError(
                f"inline marking at character {span.start + 1} names no vetting level "
                "of the profile"
            )
    return text
