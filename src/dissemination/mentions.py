"""Finding mentions of a subject in free text, in the forms people write it.

How. A text is reduced to its *skeleton*: its letters and digits only, each
folded (lower case; accents, fullwidth forms and the like removed), with the
position of each in the text. A subject gives a few *forms*: sequences of
segments of skeleton characters (a plate is one segment `ab12cde`; a date
three, `29`, `02`, `1980`) with rules (`Gap`) for what may stand in the text
between two characters of a segment and between two segments: which
characters, how many, and whether one is required. A mention is an occurrence
of a form in the skeleton whose gaps obey the rules and which is neither
preceded nor followed by a letter or digit, so nothing is masked inside a
larger token. Names then grow to take in the forenames around the surname.

No regular expression is built per subject: a subject's forms are worked out
once (and cached), and a text costs one substring search per form; the gaps
are checked only where a form occurs. `docs/masking.md` lists the forms
matched and those known not to be:

- `vehicle`, `container`, `passport`: the characters in order, with up to 3
  separators (spaces, `-` and dashes, `.`, `/`, `_`, soft hyphen, zero-width)
  between any two; a passport's issuing country may precede its number;
- `vessel`: an IMO number with or without `IMO` (`IMO no.`, `IMO number`),
  or a vessel's name (`MV` and the like optional);
- `phone`: international (`+44`, `0044`, `011 44`, `(0)`), national with
  the trunk prefix (`07700`) or the bare national number, any grouping;
- `email`: `@` and `.` also written `[at]`, `(dot)`, ` at `, ` dot `;
- `person`: the surname, with forenames (or their initials) before it and
  forenames after it; the date of birth in UK numeric, ISO and written forms;
- `organisation`: the name's words, `&` or `and`, a legal suffix optional;
- `other`: the value's words in order.

Identifiers are normalised first by `dissemination.identifiers` (the
registry's canonical forms) where they can be; one the registry would refuse
is still found, from a minimal normalisation of its own.

Pure functions: no I/O, no clock.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import phonenumbers

from dissemination.errors import IdentifierError
from dissemination.identifiers import DEFAULT_PHONE_REGION, normalise_value
from dissemination.models import PassportSubject, PersonSubject, Subject

__all__ = ["Finder", "Prepared", "mention_finder", "skeleton", "subject_texts"]

# -- the skeleton: letters and digits, folded ------------------------------------------------


def _skeleton_table() -> dict[int, str]:
    """The `str.translate` table that folds a character to the letter it is a form of.

    Latin letters with accents (Latin-1, Latin Extended-A and B) to their base
    letter, fullwidth ASCII to ASCII, and the letters whose lower case is one
    of those (the Kelvin and Angstrom signs); the dotted capital I (the one
    character whose lower case is two) and the dotless i to `i`. Everything
    else is lower-cased after the table.
    """
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFKD", chr(code))[0]
        if chr(code).isalpha() and base.isascii() and base.isalpha():
            table[code] = base.lower()
    for code in range(0xFF01, 0xFF5F):
        table[code] = chr(code - 0xFEE0).lower()
    for block in (range(0x80, 0x250), range(0x1E00, 0x1F00), range(0x2100, 0x2150)):
        for code in block:
            lower = chr(code).lower()
            if len(lower) == 1 and ord(lower) in table and code not in table:
                table[code] = table[ord(lower)]
    table[0x130] = table[0x131] = "i"  # dotted capital and dotless i, as `re` takes them
    return table


_SKELETON = _skeleton_table()
_NOT_ALNUM = re.compile(r"[\W_]+")
_ASCII_NOT_ALNUM = bytes(code for code in range(128) if not chr(code).isalnum())


def skeleton(text: str) -> str:
    """A text's letters and digits, folded: lower case, accents and fullwidth forms removed.

    Args:
        text: any text.

    Returns:
        One character for each letter or digit of `text`, in order.
    """
    if text.isascii():  # the common case, at C speed
        return text.encode("ascii").lower().translate(None, _ASCII_NOT_ALNUM).decode("ascii")
    return _NOT_ALNUM.sub("", text.translate(_SKELETON).lower())


_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
"""Fullwidth forms (U+FF01 to U+FF5E) to ASCII, one for one: offsets stay valid."""


class Prepared:
    """A text with its skeleton, and a map from skeleton characters back to the text.

    Fullwidth forms are read as their ASCII characters (one for one, so
    offsets into `text` are offsets into the original), so that a fullwidth
    separator (U+FF0D, fullwidth hyphen-minus) stands in a gap as its ASCII form would.
    """

    __slots__ = ("_runs", "_shifts", "skeleton", "text")

    def __init__(self, text: str) -> None:
        """Fold the text once, for every subject searched in it.

        Args:
            text: the text to search.
        """
        self.text = text if text.isascii() else text.translate(_FULLWIDTH)
        self.skeleton = skeleton(self.text)
        self._runs: list[int] | None = None
        self._shifts: list[int] = []

    def position(self, index: int) -> int:
        """Where the skeleton character at `index` is in the text.

        The map is worked out on first use (only texts in which a form occurs
        need it): the runs of characters the skeleton drops, each with the
        skeleton index it stands before and how many were dropped up to it.

        Args:
            index: an index into `skeleton`.

        Returns:
            The index of that letter or digit in `text`.
        """
        if self._runs is None:
            # text = kept[0] dropped[0] kept[1] dropped[1] ... (kept: letters and digits)
            kept = _NOT_ALNUM.split(self.text)
            self._runs = list(itertools.accumulate(map(len, kept[:-1])))
            self._shifts = list(itertools.accumulate(map(len, _NOT_ALNUM.findall(self.text))))
        run = bisect.bisect_right(self._runs, index) - 1
        return index + (self._shifts[run] if run >= 0 else 0)


# -- forms: segments of skeleton characters and the gaps between them ------------------------

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015"
_APOSTROPHES = "'\u2018\u2019`\u02bc"
_SEPARATORS = frozenset(f"._/{_DASHES}\u00ad\u200b\u200c\u200d\u2060\ufeff")


@dataclass(frozen=True, slots=True)
class Gap:
    """What may stand in the text between two consecutive characters of a form.

    Attributes:
        least: the fewest characters.
        most: the most characters.
        chars: the characters allowed (any white space is allowed too).
        required: when set, at least one of these must be there.
    """

    least: int = 0
    most: int = 3
    chars: frozenset[str] = _SEPARATORS
    required: str = ""

    def allows(self, between: str) -> bool:
        """Whether `between` may stand in this gap.

        Args:
            between: the text between two characters of a form.

        Returns:
            True when its length, characters and required character fit.
        """
        if not self.least <= len(between) <= self.most:
            return False
        if any(not (char.isspace() or char in self.chars) for char in between):
            return False
        return not self.required or any(char in self.required for char in between)


_NONE = Gap(0, 0)
_COMPACT = Gap()
_PHONE = Gap(0, 4, _SEPARATORS | {"(", ")"})
_IMO = Gap(0, 3, _SEPARATORS | {":", "#"})
_WORDS = Gap(0, 4, frozenset(f",.&/{_DASHES}{_APOSTROPHES}\u00ad\u200b\u200c\u200d"))
_DATE_NUMBERS = Gap(1, 3, frozenset("/.-"))
_DATE_WORDS = Gap(1, 3, frozenset(f",./{_DASHES}{_APOSTROPHES}"))
_EMAIL_BRACKETS = frozenset("[](){}<>")
_ADDRESS = frozenset(".!#$%&'*+/=?^`{|}~-_")
_EMAIL_DOT = Gap(0, 4, _EMAIL_BRACKETS | _ADDRESS)
_EMAIL_AT = Gap(0, 4, _EMAIL_BRACKETS | {"@"}, required="@")
_EMAIL_WORD = Gap(0, 4, _EMAIL_BRACKETS)


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

    def __post_init__(self) -> None:
        """Work out the needle and the rule of each gap of the whole form."""
        rules: list[Gap] = []
        for index, segment in enumerate(self.segments):
            rules.extend([self.inner] * (len(segment) - 1))
            if index < len(self.joins):
                rules.append(self.joins[index])
        object.__setattr__(self, "needle", "".join(self.segments))
        object.__setattr__(self, "rules", tuple(rules))


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
    """Forms with the same boundary and extension (a person has two: name, birth date)."""

    forms: tuple[Form, ...]
    boundary: Boundary = _apart
    extend: Extension | None = None
    gate: tuple[str, ...] = ()  # needles every form contains: skip the part unless all occur

    def find(self, prepared: Prepared, found: list[tuple[int, int]]) -> None:
        text, seen = prepared.text, prepared.skeleton
        if any(needle not in seen for needle in self.gate):
            return
        for form in self.forms:
            needle = form.needle
            at = seen.find(needle)
            while at >= 0:
                span = self._check(prepared, form, at)
                if span is not None:
                    found.append(span if self.extend is None else self.extend(text, *span))
                at = seen.find(needle, at + 1)

    def _check(self, prepared: Prepared, form: Form, at: int) -> tuple[int, int] | None:
        text = prepared.text
        start = left = prepared.position(at)
        for rule in form.rules:  # walk to each next letter or digit, checking the gap
            right = left + 1
            limit = right + rule.most
            while not text[right].isalnum():  # the skeleton says there is one
                right += 1
                if right > limit:
                    return None
            if not rule.allows(text[left + 1 : right]):
                return None
            left = right
        end = left + 1
        return (start, end) if self.boundary(text, start, end) else None


class Finder:
    """Finds the mentions of one subject in texts.

    Attributes:
        parts: groups of forms, each with its boundary and extension.
    """

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[_Part]) -> None:
        """Hold the subject's forms.

        Args:
            parts: the forms, grouped.
        """
        self.parts = tuple(parts)

    def find(self, prepared: Prepared) -> list[tuple[int, int]]:
        """Every stretch of the text that mentions the subject, overlaps included.

        Args:
            prepared: the text, folded once for every subject searched in it.

        Returns:
            (start, end) offsets, sorted; the caller merges overlaps.
        """
        found: list[tuple[int, int]] = []
        for part in self.parts:
            part.find(prepared, found)
        found.sort()
        return found


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
    return [_Part((_form([folded], _COMPACT),))] if folded else [_NEVER]


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
        spelled = [piece for label in labels for piece in ("dot", label)][1:]
        # name@example.com, name [at] example.com, name@example [dot] com, name at ...
        forms.append(_form([local_folded, "".join(labels)], _EMAIL_DOT, _EMAIL_AT))
        forms.append(_form([local_folded, "at", "".join(labels)], _EMAIL_DOT, _EMAIL_WORD))
        forms.append(
            _form([local_folded, *spelled], _EMAIL_DOT, [_EMAIL_AT] + [_EMAIL_WORD] * len(spelled))
        )
        forms.append(_form([local_folded, "at", *spelled], _EMAIL_DOT, _EMAIL_WORD))
    return [_Part(tuple(forms), boundary=_apart_email)]


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


def _person(name: str, born: str) -> list[_Part]:
    forenames, surname = _name_parts(name)
    folded = skeleton("".join(surname))
    words = {skeleton(piece) for word in forenames for piece in re.split(f"[{_DASHES}]", word)}
    words |= {skeleton(word) for word in forenames}
    words.discard("")
    initials = {word[0] for word in words}
    extend = functools.partial(_forenames, words=frozenset(words), initials=frozenset(initials))
    parts = [_Part((_form([folded], _WORDS),), extend=extend) if folded else _NEVER]
    if born:
        parts.append(_date_of_birth(dt.date.fromisoformat(born)))
    return parts


_ORDINALS = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}


def _date_of_birth(born: dt.date) -> _Part:
    """UK numeric (`29/02/1980`, `29.2.80`), ISO (`1980-02-29`, `19800229`) and written dates."""
    days = {str(born.day), f"{born.day:02d}"}
    months = {str(born.month), f"{born.month:02d}"}
    year, short = str(born.year), f"{born.year % 100:02d}"
    name = _MONTHS[born.month - 1]
    names = {name, name[:3]} | ({"sept"} if born.month == 9 else set())
    ordinal = _ORDINALS.get(born.day, "th")
    forms = [_form([f"{born.day:02d}{born.month:02d}{year}"], _NONE)]
    forms.append(_form([f"{year}{born.month:02d}{born.day:02d}"], _NONE))
    for day in days:
        for month in months:
            forms.extend(_form([day, month, y], _NONE, _DATE_NUMBERS) for y in (year, short))
            forms.append(_form([year, month, day], _NONE, _DATE_NUMBERS))
        for written_day in (day, day + ordinal):
            for month_name in names:
                for y in (year, short):
                    forms.append(_form([written_day, month_name, y], _NONE, _DATE_WORDS))
                    forms.append(_form([written_day, "of", month_name, y], _NONE, _DATE_WORDS))
                forms.append(_form([month_name, written_day, year], _NONE, _DATE_WORDS))
    return _Part(tuple(forms), gate=(short, str(born.day)))


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


_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
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
            parts = _person(value, born)
        case _:
            parts = _other(value)
    return Finder(parts)


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
