"""Finding mentions of withheld subjects in free text, in the forms people write them.

How. A text is first *folded* once, whatever the number of subjects searched
in it, with a map from every folded character back to the stretch of the
original it came from (so the right stretch is masked):

- Unicode format characters (category Cf: zero-width, LRM/RLM, bidi
  controls, word joiner, soft hyphen) are dropped, and so are combining marks
  (decomposed accents); compatibility forms are read as what they stand for
  (NFKD: ligatures, mathematical alphanumerics, fullwidth forms), letters are
  case-folded and decimal digits of any script read as ASCII digits;
- a second reading decodes HTML (known tags read as a space, entities
  unescaped) and URL percent-encoding, up to three layers deep, then folds
  again. Mentions found in either reading are masked: decoding can only add
  what is found, never hide what the text says literally.

The folded text is reduced to its *skeleton*: its letters and digits only,
with the position of each. A subject gives a few *forms*: sequences of
segments of skeleton characters (a plate is one segment `ab12cde`) with
rules (`Gap`) for what may stand between two characters of a segment and
between two segments: which characters, how many, whether one is required.
Every form of every withheld subject goes into one Aho-Corasick automaton
(`Matcher`), so a text costs one pass over its skeleton whatever the number
of subjects; the gaps are checked only where a form occurs, and a mention
must be neither preceded nor followed by a letter or digit, so nothing is
masked inside a larger token. Names then grow to take in the forenames around
the surname. Dates of birth are read by one pattern per text (numeric, ISO,
compact and written dates, month names in English, French and Spanish and
their abbreviations) and masked when they are a withheld person's. E-mail
addresses are searched in a reading where a spelled-out ` at `, `(at)`,
` dot `, `[dot]` is the character it spells.

`docs/masking.md` lists the forms matched and those known not to be.
Identifiers are normalised first by `dissemination.identifiers` (the
registry's canonical forms) where they can be; one the registry would refuse
is still found, from a minimal normalisation of its own.

Pure functions: no I/O, no clock.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import html
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick
import phonenumbers

from dissemination.errors import IdentifierError
from dissemination.identifiers import DEFAULT_PHONE_REGION, normalise_value
from dissemination.models import PassportSubject, PersonSubject, Subject

__all__ = ["Finder", "Matcher", "Prepared", "fold", "mention_finder", "skeleton", "subject_texts"]

# -- folding: the text as it is matched, and the way back to the original ----------------------


class Rewritten:
    """A text rewritten for matching, with the map back to the text it was made from.

    The text is a sequence of segments: *copied* ones hold the characters of
    a stretch of the source one for one (the same length, perhaps changed
    characters), the others stand for a whole stretch of the source (an
    entity, a tag, a character that folds to several).
    """

    __slots__ = ("_copied", "_ends", "_origins", "_parent", "_starts", "text")

    def __init__(self, parent: Rewritten | None) -> None:
        """An empty rewriting of the text `parent` holds (None: of the original).

        Args:
            parent: the rewriting this one was made from.
        """
        self.text = ""
        self._parent = parent
        self._starts: list[int] = []  # where each segment starts in `text`
        self._origins: list[int] = []  # where its source starts
        self._ends: list[int] = []  # where its source ends
        self._copied: list[bool] = []

    def origin(self, start: int, end: int) -> tuple[int, int]:
        """The stretch of the original text that `text[start:end]` came from.

        Args:
            start: the first character (`start < end`).
            end: just after the last.

        Returns:
            Offsets into the original text (the one the first rewriting was
            made from), taking in every source character of the stretch.
        """
        first = bisect.bisect_right(self._starts, start) - 1
        last = bisect.bisect_right(self._starts, end - 1) - 1
        if self._copied[first]:
            origin_start = self._origins[first] + start - self._starts[first]
        else:
            origin_start = self._origins[first]
        if self._copied[last]:
            origin_end = self._origins[last] + end - self._starts[last]
        else:
            origin_end = self._ends[last]
        if self._parent is None:
            return origin_start, origin_end
        return self._parent.origin(origin_start, origin_end)


def _rewrite(
    text: str,
    pattern: re.Pattern[str],
    replace: Callable[[re.Match[str]], str],
    parent: Rewritten | None,
) -> Rewritten | None:
    """`text` with each match of `pattern` replaced, or None when nothing changed."""
    rewritten = Rewritten(parent)
    pieces: list[str] = []
    length = 0
    position = 0

    def segment(origin: int, end: int, new: str, *, copied: bool) -> None:
        nonlocal length
        if not new:
            return
        pieces.append(new)
        rewritten._starts.append(length)
        rewritten._origins.append(origin)
        rewritten._ends.append(end)
        rewritten._copied.append(copied)
        length += len(new)

    for match in pattern.finditer(text):
        new = replace(match)
        if new == match.group():
            continue
        segment(position, match.start(), text[position : match.start()], copied=True)
        one_for_one = len(new) == match.end() - match.start()
        segment(match.start(), match.end(), new, copied=one_for_one)
        position = match.end()
    if not pieces:
        return None
    segment(position, len(text), text[position:], copied=True)
    rewritten.text = "".join(pieces)
    return rewritten


_ENCLOSED = re.compile(
    r"(?:NEGATIVE CIRCLED |NEGATIVE SQUARED |REGIONAL INDICATOR SYMBOL )"
    r"(?:LATIN CAPITAL )?LETTER ([A-Z])"
)


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """What a character is read as: compatibility form resolved, accents and Cf dropped."""
    if unicodedata.category(char) in {"Cf", "Mn", "Me"}:
        return ""
    if char in "\u0130\u0131":  # dotted capital I, dotless i: `i`, as `re` takes them
        return "i"
    enclosed = _ENCLOSED.fullmatch(unicodedata.name(char, ""))
    if enclosed is not None:  # no compatibility mapping, but read as the letter: `🅰`, `🇦`
        return enclosed.group(1).lower()
    kept = [
        piece
        for piece in unicodedata.normalize("NFKD", char)
        if unicodedata.category(piece) not in {"Cf", "Mn", "Me"}
    ]
    folded = "".join(kept).casefold()
    return "".join(
        str(unicodedata.decimal(piece)) if unicodedata.decimal(piece, None) is not None else piece
        for piece in folded
    ).lower()


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _fold_text(text: str, parent: Rewritten | None) -> tuple[str, Rewritten | None]:
    """The text folded (`_fold_char`), and its map back (None: one for one with `text`)."""
    if text.isascii():
        return text.lower(), parent
    rewritten = _rewrite(text, _NON_ASCII, lambda match: _fold_char(match.group()), parent)
    if rewritten is None:
        return text.lower(), parent
    rewritten.text = rewritten.text.lower()  # ASCII capitals; folded characters stay as they are
    return rewritten.text, rewritten


def fold(text: str) -> str:
    """A text as it is matched: Cf and accents dropped, compatibility forms resolved, folded.

    Args:
        text: any text.

    Returns:
        The folded text (its letters and digits are those of `skeleton`).
    """
    return _fold_text(text, None)[0]


_HTML_TAGS = (
    "a|abbr|b|bdi|bdo|big|blockquote|br|center|cite|code|del|div|em|font|h[1-6]|hr|i|ins|kbd"
    "|label|li|mark|nobr|ol|p|pre|q|s|samp|small|span|strike|strong|sub|sup|td|th|time|tr|tt"
    "|u|ul|var|wbr"
)
_DECODE = re.compile(
    rf"</?(?:{_HTML_TAGS})\s*/?>"  # a bare known tag (a tag with attributes stays, searched)
    r"|&(?:#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});?"  # an entity (text is folded)
    r"|(?:%[0-9a-f]{2})+",  # percent-encoded bytes
    re.IGNORECASE,  # a decoded layer may hold capitals again
)


def _decoded(match: re.Match[str]) -> str:
    found = match.group()
    if found[0] == "<":
        return " "
    if found[0] == "&":
        return html.unescape(found)
    raw = bytes(int(found[index + 1 : index + 3], 16) for index in range(0, len(found), 3))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _decode(text: str, parent: Rewritten | None) -> tuple[str, Rewritten] | None:
    """The folded text with HTML and percent-encoding decoded (three layers), folded again."""
    if "&" not in text and "%" not in text and "<" not in text:
        return None
    rewritten: Rewritten | None = None
    current, chain = text, parent
    for _ in range(3):
        step = _rewrite(current, _DECODE, _decoded, chain)
        if step is None:
            break
        rewritten, current, chain = step, step.text, step
    if rewritten is None:
        return None
    folded, chain = _fold_text(current, rewritten)
    assert chain is not None  # noqa: S101 (a rewriting was made above)
    return folded, chain


_SPELLED = re.compile(r"\s*[\[({<]\s*(at|dot)\s*[\])}>]\s*|\s+(at|dot)\s+")


_SPELLED_HINT = re.compile(r"[\s\[({<](?:at|dot)[\s\])}>]")
"""Where `_SPELLED` may match: a quick test that most texts fail."""


def _spelled(match: re.Match[str]) -> str:
    return "@" if (match.group(1) or match.group(2)) == "at" else "."


_NOT_ALNUM = re.compile(r"[\W_]+")
_ASCII_NOT_ALNUM = bytes(code for code in range(128) if not chr(code).isalnum())
_ALNUM = re.compile(r"[^\W_]")
_ALNUM_FLAGS = bytes(int(chr(code).isalnum()) if code < 128 else 0 for code in range(256))


def skeleton(text: str) -> str:
    """A text's letters and digits, folded (`fold`): the characters forms are made of.

    Args:
        text: any text.

    Returns:
        The letters and digits of the folded text, in order.
    """
    if text.isascii():  # the common case, at C speed
        return text.encode("ascii").lower().translate(None, _ASCII_NOT_ALNUM).decode("ascii")
    return _NOT_ALNUM.sub("", fold(text))


class Reading:
    """One reading of a text: folded, its skeleton, and the maps back.

    Attributes:
        text: the folded text.
        skeleton: its letters and digits.
    """

    __slots__ = ("_map", "_positions", "skeleton", "text")

    def __init__(self, text: str, rewritten: Rewritten | None) -> None:
        """Hold a folded text and its map back to the original.

        Args:
            text: the folded text.
            rewritten: its map back (None: one for one with the original).
        """
        self.text = text
        self._map = rewritten
        self.skeleton = (
            text.encode("ascii").translate(None, _ASCII_NOT_ALNUM).decode("ascii")
            if text.isascii()
            else _NOT_ALNUM.sub("", text)
        )
        self._positions: list[int] | None = None

    def positions(self, first: int = 0, last: int | None = None) -> list[int]:
        """Where the skeleton characters `first` to `last` (included) are in `text`.

        Worked out on first use (only texts in which a form occurs need it),
        at C speed for an ASCII text, and kept for the text's other mentions.

        Args:
            first: the first skeleton index wanted.
            last: the last one (None: to the end).

        Returns:
            The index in `text` of each of those letters and digits, in order.
        """
        if self._positions is None:
            text = self.text
            if text.isascii():
                flags = text.encode("ascii").translate(_ALNUM_FLAGS)
                self._positions = list(itertools.compress(range(len(text)), flags))
            else:
                self._positions = [match.start() for match in _ALNUM.finditer(text)]
        return self._positions[first : None if last is None else last + 1]

    def position(self, index: int) -> int:
        """Where the skeleton character at `index` is in `text`.

        Args:
            index: an index into `skeleton`.

        Returns:
            The index of that letter or digit in `text`.
        """
        return self.positions(index, index)[0]

    def origin(self, start: int, end: int) -> tuple[int, int]:
        """The stretch of the original text that `text[start:end]` came from.

        Args:
            start: the first character.
            end: just after the last.

        Returns:
            Offsets into the original text.
        """
        return (start, end) if self._map is None else self._map.origin(start, end)


class Prepared:
    """A text folded once for every subject searched in it: its readings.

    Attributes:
        text: the original text.
        readings: the folded text, and the decoded one when decoding changes it.
    """

    __slots__ = ("_addresses", "readings", "text")

    def __init__(self, text: str) -> None:
        """Fold the text (and decode it, where it has anything to decode).

        Args:
            text: the text to search.
        """
        self.text = text
        folded, rewritten = _fold_text(text, None)
        self.readings = [Reading(folded, rewritten)]
        decoded = _decode(folded, rewritten)
        if decoded is not None:
            self.readings.append(Reading(*decoded))
        self._addresses: dict[int, Reading] | None = None

    @property
    def skeleton(self) -> str:
        """The skeleton of the folded text (the first reading)."""
        return self.readings[0].skeleton

    def address(self, index: int) -> Reading:
        """Reading `index` with spelled-out e-mail punctuation (` at `, `[dot]`) as characters.

        Args:
            index: which reading.

        Returns:
            The rewritten reading (the reading itself where nothing is spelled out).
        """
        if self._addresses is None:
            self._addresses = {}
        found = self._addresses.get(index)
        if found is None:
            reading = self.readings[index]
            spelled = None
            if _SPELLED_HINT.search(reading.text) is not None:
                spelled = _rewrite(reading.text, _SPELLED, _spelled, reading._map)
            found = reading if spelled is None else Reading(spelled.text, spelled)
            self._addresses[index] = found
        return found


# -- forms: segments of skeleton characters and the gaps between them ------------------------

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015"
_APOSTROPHES = "'\u2018\u2019`\u02bc"


@dataclass(frozen=True, slots=True)
class Gap:
    """What may stand in the folded text between two consecutive characters of a form.

    Attributes:
        least: the fewest characters.
        most: the most characters.
        chars: the characters allowed besides white space; None: any character
            that is not a letter or digit (punctuation, symbols).
        required: when set, at least one of these must be there.
    """

    least: int = 0
    most: int = 3
    chars: frozenset[str] | None = None
    required: str = ""

    def allows(self, between: str) -> bool:
        """Whether `between` may stand in this gap.

        Args:
            between: the folded text between two characters of a form.

        Returns:
            True when its length, characters and required character fit.
        """
        if not self.least <= len(between) <= self.most:
            return False
        chars = self.chars
        if chars is not None and any(not (c.isspace() or c in chars) for c in between):
            return False
        return not self.required or any(char in self.required for char in between)


_NONE = Gap(0, 0)
_COMPACT = Gap()  # up to 3 of any punctuation, symbol or space
_PHONE = Gap(0, 4)
_IMO = Gap(0, 3)
_WORDS = Gap(0, 4)
_EMAIL_BRACKETS = frozenset("[](){}<>")
_ADDRESS = frozenset(".!#$%&'*+/=?^`{|}~-_")
_EMAIL_DOT = Gap(0, 4, _EMAIL_BRACKETS | _ADDRESS)
_EMAIL_AT = Gap(0, 4, _EMAIL_BRACKETS | {"@"}, required="@")


@dataclass(frozen=True, slots=True)
class Form:
    """One way of writing an identifier: segments of skeleton characters and their gaps.

    Attributes:
        segments: the skeleton characters, in runs.
        inner: the gap allowed between two characters of one segment.
        joins: the gap allowed between segment `i` and `i + 1` (one per join).
    """

    segments: tuple[str, ...]
    inner: Gap
    joins: tuple[Gap, ...]
    needle: str = field(init=False)
    rules: tuple[Gap, ...] = field(init=False, repr=False)
    tight: bool = field(init=False, repr=False)  # every gap may be empty

    def __post_init__(self) -> None:
        """Work out the needle and the rule of each gap of the whole form."""
        rules: list[Gap] = []
        for index, segment in enumerate(self.segments):
            rules.extend([self.inner] * (len(segment) - 1))
            if index < len(self.joins):
                rules.append(self.joins[index])
        object.__setattr__(self, "needle", "".join(self.segments))
        object.__setattr__(self, "rules", tuple(rules))
        object.__setattr__(self, "tight", all(not (r.least or r.required) for r in rules))


def _form(segments: Sequence[str], inner: Gap, join: Gap | Sequence[Gap] = _NONE) -> Form:
    """A form, its empty segments dropped (with the join that followed each)."""
    joins = [join] * (len(segments) - 1) if isinstance(join, Gap) else list(join)
    kept: list[str] = []
    kept_joins: list[Gap] = []
    for index, segment in enumerate(segments):
        if not segment:
            continue
        if kept:
            kept_joins.append(joins[index - 1])
        kept.append(segment)
    return Form(tuple(kept), inner, tuple(kept_joins))


Boundary = Callable[[str, int, int], bool]
"""Whether a stretch `[start, end)` of a text stands apart from what is around it."""
Extension = Callable[[str, int, int], tuple[int, int]]
"""Grow a mention over words around it (forenames, a legal suffix)."""


def _apart(text: str, start: int, end: int) -> bool:
    """Not preceded or followed by a letter or digit: not inside a larger token."""
    return (start == 0 or not text[start - 1].isalnum()) and (
        end == len(text) or not text[end].isalnum()
    )


def _apart_email(text: str, start: int, end: int) -> bool:
    """Not preceded by an address character, nor followed by one or by a longer domain."""
    if start and (text[start - 1].isalnum() or text[start - 1] in _ADDRESS):
        return False
    if end < len(text) and (text[end].isalnum() or text[end] in "-_"):
        return False
    return not (text[end : end + 1] == "." and text[end + 1 : end + 2].isalnum())


@dataclass(frozen=True, slots=True)
class _Part:
    """Forms with the same boundary and extension (e-mail forms: in the address reading)."""

    forms: tuple[Form, ...]
    boundary: Boundary = _apart
    extend: Extension | None = None
    address: bool = False  # searched in the reading with ` at ` and ` dot ` as characters
    hints: tuple[str, ...] = ()  # an address's local part's first word: in every spelling of it

    def check(self, reading: Reading, form: Form, at: int) -> tuple[int, int] | None:
        """The mention of `form` at skeleton index `at`, if its gaps and boundary hold.

        Args:
            reading: the folded text.
            form: the form whose needle occurs at `at`.
            at: where in the skeleton.

        Returns:
            (start, end) in the folded text, grown by the extension, or None.
        """
        text = reading.text
        last = len(form.needle) - 1
        positions = reading.positions(at, at + last)
        start = left = positions[0]
        if positions[last] - start != last or not form.tight:
            # Not written solid (or a gap must hold something): check every gap.
            for right, rule in zip(positions[1:], form.rules, strict=True):
                if right - left > 1:
                    if right - left - 1 > rule.most or not rule.allows(text[left + 1 : right]):
                        return None
                elif rule.least or rule.required:
                    return None
                left = right
        left = positions[last]
        end = left + 1
        if not self.boundary(text, start, end):
            return None
        return (start, end) if self.extend is None else self.extend(text, start, end)


DateKey = tuple[int, int, str]
"""A date as written: (day, month, year as written: 4 digits or the last 2)."""


class Finder:
    """One subject's forms (and a person's date of birth).

    Attributes:
        parts: groups of forms, each with its boundary and extension.
        dates: a person's date of birth, as the keys a written date is read to.
    """

    __slots__ = ("dates", "parts")

    def __init__(self, parts: Iterable[_Part], dates: frozenset[DateKey] = frozenset()) -> None:
        """Hold the subject's forms.

        Args:
            parts: the forms, grouped.
            dates: the date of birth's keys (`(29, 2, "1980")`, `(29, 2, "80")`).
        """
        self.parts = tuple(parts)
        self.dates = dates

    def find(self, prepared: Prepared) -> list[tuple[int, int]]:
        """Every stretch of the text that mentions the subject, overlaps included.

        Args:
            prepared: the text, folded once for every subject searched in it.

        Returns:
            (start, end) offsets in the original text, sorted.
        """
        return sorted((start, end) for start, end, _ in Matcher([(self, "")]).find(prepared))


class Matcher:
    """Every form of several subjects in one automaton: a text is searched in one pass.

    Built once per set of withheld subjects (a decision's), then used for
    every text it shows; the work per text is one pass of the automaton over
    each reading's skeleton (and a look at each run of digits when a date of
    birth is withheld), whatever the number of subjects. A few needles are
    searched one by one instead (`_FEW`): building an automaton costs more
    than it saves there.
    """

    __slots__ = ("_addresses", "_dates", "_hints", "_plain", "_years")

    def __init__(self, finders: Iterable[tuple[Finder, str]]) -> None:
        """Put every form of every finder in the automata.

        Args:
            finders: each subject's finder and its label (the mask's type).
        """
        plain: dict[str, list[tuple[_Part, Form, str]]] = {}
        addresses: dict[str, list[tuple[_Part, Form, str]]] = {}
        hints: dict[str, list[tuple[_Part, Form, str]]] = {}
        self._dates: dict[DateKey, set[str]] = {}
        for finder, label in finders:
            for part in finder.parts:
                needles = addresses if part.address else plain
                for hint in part.hints:
                    hints.setdefault(hint, [])
                for form in part.forms:
                    needles.setdefault(form.needle, []).append((part, form, label))
            for key in finder.dates:
                self._dates.setdefault(key, set()).add(label)
        self._years = frozenset(year for _, _, year in self._dates)
        self._plain = _Needles(plain) if plain else None
        self._addresses = _Needles(addresses) if addresses else None
        self._hints = _Needles(hints) if hints else None

    def find(self, prepared: Prepared) -> list[tuple[int, int, str]]:
        """Every mention in the text: (start, end, label), offsets in the original text.

        Args:
            prepared: the text, folded once.

        Returns:
            The mentions, overlaps included, unsorted.
        """
        found: list[tuple[int, int, str]] = []
        if self._plain is not None:
            for reading in prepared.readings:
                _scan(self._plain, reading, found)
        if self._addresses is not None:
            for index, reading in enumerate(prepared.readings):
                # An address holds `@`, or a spelled-out `at` and its local
                # part's first word (`_Part.hints`): most texts hold neither.
                if "@" in reading.text or (
                    _SPELLED_HINT.search(reading.text) is not None
                    and (self._hints is None or self._hints.occurs(reading.skeleton))
                ):
                    _scan(self._addresses, prepared.address(index), found)
        if self._dates:
            for reading in prepared.readings:
                for start, end, key in _written_dates(reading.text, self._years):
                    for label in self._dates.get(key, ()):
                        found.append((*reading.origin(start, end), label))
        return found


_FEW = 24
"""Up to this many needles, a text is searched needle by needle (`str.find`, no automaton
to build: the common item with a few withheld subjects); beyond, by an Aho-Corasick automaton."""

Entries = tuple[int, tuple[tuple[_Part, Form, str], ...]]
"""A needle's length and the forms it is the needle of, each with its label."""


class _Needles:
    """The needles of a set of forms, and where they occur in a skeleton."""

    __slots__ = ("_automaton", "_few")

    def __init__(self, needles: dict[str, list[tuple[_Part, Form, str]]]) -> None:
        entries = {needle: (len(needle), tuple(found)) for needle, found in needles.items()}
        self._few: list[tuple[str, Entries]] | None = None
        self._automaton: Any = None
        if len(entries) <= _FEW:
            self._few = list(entries.items())
        else:
            self._automaton = ahocorasick.Automaton()
            for needle, entry in entries.items():
                self._automaton.add_word(needle, entry)
            self._automaton.make_automaton()

    def occurs(self, skeleton: str) -> bool:
        """Whether any needle occurs in the skeleton.

        Args:
            skeleton: a reading's skeleton.

        Returns:
            True at the first occurrence found.
        """
        return next(self.occurrences(skeleton), None) is not None

    def occurrences(self, skeleton: str) -> Iterator[tuple[int, Entries]]:
        """Every occurrence of every needle: (where it starts in the skeleton, its entries).

        Args:
            skeleton: a reading's skeleton.

        Yields:
            Overlapping occurrences included.
        """
        if self._few is not None:
            for needle, entry in self._few:
                at = skeleton.find(needle)
                while at >= 0:
                    yield at, entry
                    at = skeleton.find(needle, at + 1)
            return
        for last, entry in self._automaton.iter(skeleton):
            yield last - entry[0] + 1, entry


def _scan(needles: _Needles, reading: Reading, found: list[tuple[int, int, str]]) -> None:
    """The mentions of the needles' forms in one reading, added to `found`."""
    for at, (_, entries) in needles.occurrences(reading.skeleton):
        for part, form, label in entries:
            span = part.check(reading, form, at)
            if span is not None:
                found.append((*reading.origin(*span), label))


# -- dates of birth: read every date in a text once, then look it up -----------------------------

_MONTH_NAMES = (
    ("january", "janvier", "enero"),
    ("february", "fevrier", "febrero"),
    ("march", "mars", "marzo"),
    ("april", "avril", "abril"),
    ("may", "mai", "mayo"),
    ("june", "juin", "junio"),
    ("july", "juillet", "julio"),
    ("august", "aout", "agosto"),
    ("september", "septembre", "septiembre", "setiembre"),
    ("october", "octobre", "octubre"),
    ("november", "novembre", "noviembre"),
    ("december", "decembre", "diciembre"),
)


def _month_prefixes() -> dict[str, frozenset[int]]:
    """Every month name (English, French, Spanish, folded) and its abbreviations of 3 letters up."""
    months: dict[str, set[int]] = {}
    for number, names in enumerate(_MONTH_NAMES, 1):
        for name in names:
            for length in range(3, len(name) + 1):
                months.setdefault(name[:length], set()).add(number)
    months.setdefault("mai", set()).add(5)
    return {prefix: frozenset(numbers) for prefix, numbers in months.items()}


_MONTHS = _month_prefixes()
_SEP = r"(?:[^\w]|_){1,3}"
_SEP0 = r"(?:[^\w]|_){0,3}"
_ORDINAL = r"(?:st|nd|rd|th|er|e)?"
_EDGE_AFTER = r"(?![^\W_])"
_NUMERIC = re.compile(
    rf"(?P<d>[0-9]{{1,2}}){_SEP}(?P<m>[0-9]{{1,2}}){_SEP}(?P<y>[0-9]{{4}}|[0-9]{{2}}){_EDGE_AFTER}"
)
_ISO = re.compile(
    rf"(?P<y>[0-9]{{4}}|[0-9]{{2}}){_SEP}(?P<m>[0-9]{{1,2}}){_SEP}(?P<d>[0-9]{{1,2}}){_EDGE_AFTER}"
)
_YEAR_MONTH_DAY = re.compile(
    rf"(?P<y>[0-9]{{4}}){_SEP}(?P<name>[a-z]{{3,10}})\.?{_SEP0}(?P<d>[0-9]{{1,2}}){_ORDINAL}"
    rf"{_EDGE_AFTER}"
)
_COMPACT_DATE = re.compile(rf"(?P<digits>[0-9]{{8}}|[0-9]{{6}}){_EDGE_AFTER}")
_DAY_MONTH = re.compile(
    rf"(?P<d>[0-9]{{1,2}}){_ORDINAL}{_SEP0}(?:(?:of|de){_SEP})?(?P<name>[a-z]{{3,10}})"
    rf"\.?{_SEP0}(?:(?:de|del|of){_SEP})?(?P<y>[0-9]{{4}}|[0-9]{{2}}){_EDGE_AFTER}"
)
_MONTH_DAY = re.compile(
    rf"(?P<name>[a-z]{{3,10}})\.?{_SEP}(?P<d>[0-9]{{1,2}}){_ORDINAL}{_SEP}"
    rf"(?P<y>[0-9]{{4}}|[0-9]{{2}}){_EDGE_AFTER}"
)
_DIGIT_RUN = re.compile(r"[0-9]+")
_MONTH_BEFORE = re.compile(rf"([a-z]{{3,10}})\.?{_SEP}$")


def _written_dates(
    text: str, years: frozenset[str] | None = None
) -> Iterator[tuple[int, int, DateKey]]:
    """Every date written in a folded text: (start, end, key), each reading it may have.

    A date holds digits: each run of digits that starts a token is tried as
    the start of a numeric, ISO, compact or day-month date, and the word
    before it as the month of a month-day date, so a text costs one pass to
    find its digits and a few anchored matches at each.

    Args:
        text: a folded text.
        years: when given, only dates in these years (4 digits or the last
            2, as written) are wanted: a text with no such run of digits is
            read for compact dates only.
    """
    runs = list(_DIGIT_RUN.finditer(text))
    written = years is None or any(run.group() in years for run in runs)
    for run in runs:
        start = run.start()
        if start and text[start - 1].isalnum():
            continue  # inside a larger token
        if not written:
            if len(run.group()) in {6, 8}:
                yield from _compact_dates(text, start)
            continue
        for pattern in (_NUMERIC, _ISO, _DAY_MONTH, _YEAR_MONTH_DAY):
            match = pattern.match(text, start)
            if match is None:
                continue
            day, year = match.group("d"), match.group("y")
            months = (
                _MONTHS.get(match.group("name"), ())
                if "name" in pattern.groupindex
                else (int(match.group("m")),)
            )
            for month in months:
                yield start, match.end(), (int(day), month, year)
        yield from _compact_dates(text, start)
        before = _MONTH_BEFORE.search(text, max(0, start - 16), start)
        if before is not None:
            begin = before.start(1)
            while begin > 0 and text[begin - 1].isalpha() and start - begin < 16:
                begin -= 1  # the month's whole word (the search began inside it)
            match = _MONTH_DAY.match(text, begin)
            if match is not None and not (begin and text[begin - 1].isalnum()):
                for month in _MONTHS.get(match.group("name"), ()):
                    yield begin, match.end(), (int(match.group("d")), month, match.group("y"))


def _compact_dates(text: str, start: int) -> Iterator[tuple[int, int, DateKey]]:
    """A compact date at `start` (`29021980`, `19800229`, `290280`, `800229`): each reading."""
    compact = _COMPACT_DATE.match(text, start)
    if compact is not None:
        digits = compact.group("digits")
        readings = (
            [(digits[:2], digits[2:4], digits[4:]), (digits[6:], digits[4:6], digits[:4])]
            if len(digits) == 8
            else [(digits[:2], digits[2:4], digits[4:]), (digits[4:], digits[2:4], digits[:2])]
        )
        for day_digits, month_digits, year_digits in readings:
            yield start, compact.end(), (int(day_digits), int(month_digits), year_digits)


def _date_keys(born: dt.date) -> frozenset[DateKey]:
    return frozenset(
        {(born.day, born.month, str(born.year)), (born.day, born.month, f"{born.year % 100:02d}")}
    )


# -- the subject types ---------------------------------------------------------------------------


def _canonical(subject_type: str, value: str, **extra: str) -> str | None:
    """The registry's canonical form (`dissemination.identifiers`), or None if it refuses it."""
    try:
        return normalise_value(subject_type, value, **extra).canonical
    except IdentifierError:
        return None


def _tokens(text: str) -> list[str]:
    """The words of a name: split at white space and commas."""
    return [token for token in re.split(r"[\s,]+", text) if token]


_NEVER = _Part(())
"""The part of a value with no letter or digit: never found (nothing to find in a skeleton)."""


def _compact(value: str, subject_type: str) -> list[_Part]:
    folded = skeleton(_canonical(subject_type, value) or value)
    if not folded:
        return [_NEVER]
    forms = [_form([folded], _COMPACT)]
    if subject_type == "container" and re.fullmatch(r"[a-z]{4}[0-9]{7}", folded):
        # The check digit is worked out from the rest: owner code and serial
        # alone name the container (`MSCU 123456`).
        forms.append(_form([folded[:-1]], _COMPACT))
    return [_Part(tuple(forms))]


def _passport(country: str, value: str) -> list[_Part]:
    canonical = _canonical("passport", value, country=country)
    number = skeleton(canonical.partition(":")[2] if canonical else value)
    if not number:
        return [_NEVER]
    # The issuing country may be written against the number: `GBR123456789`.
    forms = (_form([number], _COMPACT), _form([skeleton(country), number], _COMPACT, _COMPACT))
    return [_Part(forms)]


def _vessel(value: str) -> list[_Part]:
    canonical = _canonical("vessel", value)
    if canonical is not None:
        digits = canonical.removeprefix("IMO")
        prefixes = [(), ("imo",), ("imo", "no"), ("imo", "number")]
        forms = [_form([*prefix, digits], _COMPACT, [_IMO] * len(prefix)) for prefix in prefixes]
        return [_Part(tuple(forms))]
    words = _tokens(value)
    if len(words) > 1 and skeleton(words[0]) in _VESSEL_PREFIXES:
        words = words[1:]
    return [_words_part(words, extend=_vessel_prefix)]


def _phone(value: str) -> list[_Part]:
    try:
        number = phonenumbers.parse(_canonical("phone", value) or value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not number.country_code:
        digits = skeleton("".join(char for char in value if char.isdigit()))
        if not digits:
            return [_NEVER]
        return [_Part((_form([digits], _PHONE),), extend=_phone_prefix)]
    national = phonenumbers.national_significant_number(number)
    country = str(number.country_code)
    region = phonenumbers.region_code_for_country_code(number.country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = (metadata.national_prefix if metadata is not None else None) or ""
    forms = [
        _form([exit_code, country, zero, national], _PHONE, _PHONE)
        for exit_code in ("", "00", "011")
        for zero in ("", "0")
    ]
    forms.append(_form([national], _PHONE))
    if trunk:
        forms.append(_form([trunk, national], _PHONE, _PHONE))
    return [_Part(tuple(forms), extend=_phone_prefix)]


def _email(value: str) -> list[_Part]:
    """The address as written and in IDNA form; ` at ` and ` dot ` are read as characters first."""
    written = unicodedata.normalize("NFKC", value).strip()
    canonical = _canonical("email", value) or written.lower()
    local, _, domain = canonical.rpartition("@")
    domains = {domain, written.rpartition("@")[2].rstrip(".")}
    local_folded = skeleton(local)
    if not local_folded or not all(domains):
        return [_NEVER]
    forms = []
    for name in domains:
        labels = [skeleton(label) for label in name.split(".") if skeleton(label)]
        forms.append(_form([local_folded, "".join(labels)], _EMAIL_DOT, _EMAIL_AT))
    first = next(word for word in (skeleton(piece) for piece in _NOT_ALNUM.split(local)) if word)
    return [_Part(tuple(forms), boundary=_apart_email, address=True, hints=(first,))]


def _words_part(words: Sequence[str], *, extend: Extension | None = None) -> _Part:
    """The words in order, `&` and `and` alike, any spacing between them."""
    variants: list[list[str]] = [[]]
    for word in words:
        if word.lower() in {"&", "and"}:
            variants = [[*variant, option] for variant in variants for option in ("", "and")]
        else:
            variants = [[*variant, skeleton(word)] for variant in variants]
    forms = {_form(variant, _WORDS, _WORDS) for variant in variants if "".join(variant)}
    return _Part(tuple(forms), extend=extend)


def _organisation(value: str) -> list[_Part]:
    core = _tokens(value)
    while len(core) > 1 and skeleton(core[-1]) in _LEGAL_SUFFIXES:
        core.pop()
    if not skeleton("".join(core)):
        return [_NEVER]
    return [_words_part(core, extend=_legal_suffix)]


def _other(value: str) -> list[_Part]:
    words = _tokens(value) or [value]
    return [_words_part(words)] if skeleton(value) else [_NEVER]


def _name_parts(name: str) -> tuple[list[str], list[str]]:
    """Split a person's name into (forenames, surname).

    `SMITH, John`: the surname comes before the comma. `John SMITH`: the words
    in capitals are the surname (the convention of intelligence reports).
    Otherwise the last word is the surname.
    """
    if "," in name:
        surname, _, forenames = name.partition(",")
        if _tokens(surname) and _tokens(forenames):
            return _tokens(forenames), _tokens(surname)
    words = _tokens(name)
    capitals = [word for word in words if word.isupper() and len(word) > 1]
    if capitals and len(capitals) < len(words):
        return [word for word in words if word not in capitals], capitals
    return words[:-1], words[-1:]


def _person(name: str) -> list[_Part]:
    forenames, surname = _name_parts(name)
    folded = skeleton("".join(surname))
    words = {skeleton(piece) for word in forenames for piece in re.split(f"[{_DASHES}]", word)}
    words |= {skeleton(word) for word in forenames}
    words.discard("")
    initials = {word[0] for word in words}
    extend = functools.partial(_forenames, words=frozenset(words), initials=frozenset(initials))
    return [_Part((_form([folded], _WORDS),), extend=extend) if folded else _NEVER]


# -- growing a mention over the words around it ------------------------------------------------

_WORD_GAP = frozenset(f" ,.{_DASHES}")


def _word_before(text: str, start: int, extra: str = "") -> tuple[int, str]:
    """The word before `start` across a short gap: (where it starts, its skeleton)."""
    gap = start
    while gap > 0 and start - gap < 4 and (text[gap - 1].isspace() or text[gap - 1] in _WORD_GAP):
        gap -= 1
    begin = gap
    while begin > 0 and (text[begin - 1].isalnum() or text[begin - 1] in _APOSTROPHES + extra):
        begin -= 1
    return begin, skeleton(text[begin:gap])


def _word_after(text: str, end: int) -> tuple[int, str]:
    """The word after `end` across a short gap: (where it ends, its skeleton)."""
    gap = end
    while gap < len(text) and gap - end < 4 and (text[gap].isspace() or text[gap] in _WORD_GAP):
        gap += 1
    finish = gap
    while finish < len(text) and (text[finish].isalnum() or text[finish] in _APOSTROPHES):
        finish += 1
    return finish, skeleton(text[gap:finish])


def _forenames(
    text: str, start: int, end: int, *, words: frozenset[str], initials: frozenset[str]
) -> tuple[int, int]:
    """Grow a surname over the forenames (or their initials) before it and the forenames after."""
    for _ in range(len(words) + 2):
        begin, word = _word_before(text, start)
        if not word or not (word in words or (len(word) == 1 and word in initials)):
            break
        start = begin
    for _ in range(len(words) + 1):
        finish, word = _word_after(text, end)
        if word not in words:
            break
        end = finish
    return start, end


def _legal_suffix(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow an organisation's name over a legal suffix (`Ltd`, `B.V.`) after it."""
    for _ in range(2):
        finish = end
        gap = finish
        while gap < len(text) and gap - end < 3 and text[gap] in " ,\u00a0":
            gap += 1
        finish = gap
        while finish < len(text) and (text[finish].isalnum() or text[finish] == "."):
            finish += 1
        if finish == gap or skeleton(text[gap:finish]) not in _LEGAL_SUFFIXES:
            break
        end = finish
    return start, end


def _vessel_prefix(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a vessel's name over a prefix (`MV`, `M/V`) before it."""
    begin, word = _word_before(text, start, extra="/")
    return (begin if word in _VESSEL_PREFIXES else start), end


def _phone_prefix(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a phone number over the `+` or `(` written before it."""
    before = text[start - 1] if start else ""
    if before == "+" or (before == "(" and ")" in text[start:end]):
        start -= 1
    return start, end


_LEGAL_SUFFIXES = frozenset(
    {"ltd", "limited", "plc", "llp", "llc", "lp", "inc", "incorporated", "corp", "corporation"}
    | {"co", "company", "gmbh", "ag", "bv", "nv", "sa", "sarl", "srl", "spa", "pty", "oy", "ab"}
)
_VESSEL_PREFIXES = frozenset({"mv", "mt", "ms", "ss", "fv", "rv", "my"})


# -- the public functions ------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _finder(key: tuple[str, str, str, str]) -> Finder:
    subject_type, value, country, born = key
    match subject_type:
        case "vehicle" | "container":
            parts = _compact(value, subject_type)
        case "passport":
            parts = _passport(country, value)
        case "vessel":
            parts = _vessel(value)
        case "phone":
            parts = _phone(value)
        case "email":
            parts = _email(value)
        case "organisation":
            parts = _organisation(value)
        case "person":
            parts = _person(value)
        case _:
            parts = _other(value)
    return Finder(parts, _date_keys(dt.date.fromisoformat(born)) if born else frozenset())


def _key(subject: Subject) -> tuple[str, str, str, str]:
    if isinstance(subject, PersonSubject):
        born = subject.date_of_birth.isoformat() if subject.date_of_birth else ""
        return ("person", subject.name, "", born)
    if isinstance(subject, PassportSubject):
        return ("passport", subject.value, subject.country, "")
    return (subject.type, subject.value, "", "")


def mention_finder(subject: Subject) -> Finder:
    """The finder of a subject's mentions in free text.

    Args:
        subject: a subject of an item.

    Returns:
        Its finder (worked out once per identifier, then cached).
    """
    return _finder(_key(subject))


def subject_texts(subject: Subject) -> tuple[str, ...]:
    """The texts a subject shows when it is rendered (its identifying fields).

    Args:
        subject: a subject of an item.

    Returns:
        The value (or name and date of birth) as rendered in a view.
    """
    if isinstance(subject, PersonSubject):
        born = subject.date_of_birth.isoformat() if subject.date_of_birth else ""
        return (subject.name, born) if born else (subject.name,)
    if isinstance(subject, PassportSubject):
        return (subject.value, f"{subject.country} {subject.value}")
    return (subject.value,)
