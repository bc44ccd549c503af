"""Finding mentions of a subject in free text, in the forms people write it.

A subject's identifier is normalised by `dissemination.identifiers` (the
registry's canonical forms) where it can be; this module then builds, for each
subject, one regular expression that matches the ways the identifier is
written in prose (`docs/masking.md` lists them, and the forms not matched):

- `vehicle`, `container`, `passport`: the characters in order, any case,
  with up to 3 separators (space, `-`, `.`, `/`, `_`, soft hyphen,
  zero-width) between any two; a passport's issuing country may precede
  its number (`GBR123456789`);
- `vessel`: an IMO number with or without `IMO`, or a vessel's name (`MV`
  and the like optional);
- `phone`: international (`+44`, `0044`, `(0)`), national (`07700`) or the
  bare national number, any spacing, `-`, `.`, `/` and brackets;
- `email`: any case, `@` and `.` also written `[at]`, `(dot)`, ` at `;
- `person`: the surname with forenames (or their initials) before or after
  it, any case, accents optional; the surname alone; the date of birth in
  UK numeric, ISO and written forms;
- `organisation`: the name's words in order, `&` for `and`, the legal
  suffix (`Ltd`, `PLC`, ...) optional;
- `other`: the value's words in order, any case and spacing.

Every pattern refuses to match inside a larger token: a mention must not be
preceded or followed by a letter or digit (an e-mail: by an address character).
Patterns are built once per subject identifier and cached (a memo, not state:
the same identifier always gives the same pattern).

Pure functions: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable

import phonenumbers

from dissemination.errors import IdentifierError
from dissemination.identifiers import DEFAULT_PHONE_REGION, normalise_value
from dissemination.models import PassportSubject, PersonSubject, Subject

__all__ = ["Finder", "mention_finder", "skeleton", "subject_texts"]

# -- building blocks -----------------------------------------------------------------

_SEPARATOR_CHARS = r"\s._/\-\u00ad\u2010-\u2015\u200b-\u200d\u2060\ufeff"
"""Characters people (and word processors) put inside an identifier."""

_SEP = f"[{_SEPARATOR_CHARS}]{{0,3}}"
"""Between two characters of a compact identifier: nothing, or a few separators."""

_PHONE_SEP = f"[{_SEPARATOR_CHARS}()]{{0,4}}"
"""Between two digits of a phone number: as `_SEP` with brackets, up to 4 (`) - `)."""

_WORD_SEP = r"[\s,.\-\u00a0\u2010-\u2015]{0,4}"
"""Between two words of a name."""

_BEFORE = r"(?<![^\W_])"
"""Not preceded by a letter or digit: no match inside a larger token."""

_AFTER = r"(?![^\W_])"
"""Not followed by a letter or digit."""

_APOSTROPHES = "'\u2018\u2019`\u02bc"
_HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2015"

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
    {
        "ltd",
        "limited",
        "plc",
        "llp",
        "llc",
        "lp",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "gmbh",
        "ag",
        "bv",
        "b.v",
        "nv",
        "n.v",
        "sa",
        "s.a",
        "sarl",
        "srl",
        "spa",
        "pty",
        "oy",
        "ab",
        "as",
    }
)
_VESSEL_PREFIXES = frozenset({"mv", "m/v", "mt", "m/t", "ms", "m/s", "ss", "fv", "rv", "my"})


def _accent_classes() -> dict[str, str]:
    """For each ASCII letter, a class of it and its accented Latin forms."""
    forms: dict[str, set[str]] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[0]
        if char.isalpha() and base.isascii() and base.isalpha():
            forms.setdefault(base.lower(), {base.lower()}).add(char.lower())
    return {base: "[" + "".join(sorted(chars)) + "]" for base, chars in forms.items()}


_ACCENTS = _accent_classes()


def _skeleton_table() -> dict[int, str]:
    """The `str.translate` table of `skeleton`.

    It maps every character a case-insensitive search takes for an ASCII
    letter to that letter: both cases, the accented Latin forms `_word`
    accepts, fullwidth forms, and the four others Python's `re` equates with
    an ASCII letter (U+0130, U+0131, U+017F, U+212A; tests check the list).
    """
    table: dict[int, str] = {}
    for base, members in _ACCENTS.items():
        for char in members.strip("[]"):
            for form in (char, char.upper(), char.lower()):
                if len(form) == 1:
                    table[ord(form)] = base
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code).lower()
    for code in range(0xFF01, 0xFF5F):  # fullwidth ASCII
        table[code] = chr(code - 0xFEE0).lower()
    # Characters whose lower case is one of those (the Kelvin and Angstrom signs...).
    for block in (range(0x80, 0x250), range(0x1E00, 0x1F00), range(0x2100, 0x2150)):
        for code in block:
            lower = chr(code).lower()
            if len(lower) == 1 and ord(lower) in table and code not in table:
                table[code] = table[ord(lower)]
    table.update({0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"})
    return table


_SKELETON = _skeleton_table()
_NOT_ALNUM = re.compile(r"[\W_]+")
_ASCII_NOT_ALNUM = bytes(code for code in range(128) if not chr(code).isalnum())


def skeleton(text: str) -> str:
    """A text's letters and digits, ASCII letters folded to lower case: the needle search space.

    Args:
        text: any text.

    Returns:
        The text with every character that is not a letter or digit removed,
        and every form of an ASCII letter written as that letter.
    """
    if text.isascii():  # the common case, at C speed: bytes lower-cased, others deleted
        return text.encode("ascii").lower().translate(None, _ASCII_NOT_ALNUM).decode("ascii")
    return _NOT_ALNUM.sub("", text.translate(_SKELETON))


def _fold_letter(char: str) -> str:
    """The ASCII base of a Latin letter (`é` is `e`), or the letter itself."""
    base = unicodedata.normalize("NFKD", char)[0]
    return base.lower() if base.isascii() and base.isalpha() else char.lower()


def _compact(characters: Iterable[str], separator: str = _SEP) -> str:
    """The characters in order with optional separators between them."""
    return separator.join(re.escape(char) for char in characters)


def _word(token: str) -> str:
    """A pattern for one word of a name: any case, accents and apostrophes optional."""
    parts: list[str] = []
    for char in token:
        if char in _APOSTROPHES:
            parts.append(f"[{re.escape(_APOSTROPHES)}]?")
        elif char in _HYPHENS:
            parts.append(r"[\s\-\u2010-\u2015]?")
        elif char == ".":
            parts.append(r"\.?")
        elif char.isalpha():
            letter = _fold_letter(char)
            parts.append(_ACCENTS.get(letter, re.escape(letter)))
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def _tokens(text: str) -> list[str]:
    """The words of a name: split at spaces and commas."""
    return [token for token in re.split(r"[\s,]+", text) if token]


def _alternation(patterns: Iterable[str]) -> str:
    """One group of alternatives, longest first (so the longest form wins at a position)."""
    unique = sorted(set(patterns), key=lambda pattern: (-len(pattern), pattern))
    return "(?:" + "|".join(unique) + ")"


def _canonical(subject_type: str, value: str, **extra: str) -> str | None:
    """The registry's canonical form (`dissemination.identifiers`), or None if invalid.

    An identifier the registry would refuse is still masked: the caller falls
    back to a minimal normalisation of its own.
    """
    try:
        return normalise_value(subject_type, value, **extra).canonical
    except IdentifierError:
        return None


def _alnum_upper(value: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKC", value) if char.isalnum()).upper()


# -- one pattern per subject type ------------------------------------------------------


Form = tuple[str, str]
"""A regular expression and its needle: text whose `skeleton` every match contains."""


def _literal(value: str) -> Form:
    """A value with no letter or digit: the text as written, always searched."""
    return re.escape(value), ""


def _longest(words: Iterable[str]) -> str:
    return max(words, key=lambda word: len(skeleton(word)), default="")


def _compact_pattern(compact: str, literal: str) -> Form:
    if not compact:
        return _literal(literal)
    return _BEFORE + _compact(compact) + _AFTER, compact


def _vehicle(value: str) -> Form:
    return _compact_pattern(_canonical("vehicle", value) or _alnum_upper(value), value)


def _container(value: str) -> Form:
    return _compact_pattern(_canonical("container", value) or _alnum_upper(value), value)


def _passport(country: str, value: str) -> Form:
    canonical = _canonical("passport", value, country=country)
    number = canonical.partition(":")[2] if canonical else _alnum_upper(value)
    if not number:
        return _literal(value)
    # The issuing country may be written against the number: `GBR123456789`.
    return f"{_BEFORE}(?:{re.escape(country)}{_SEP})?{_compact(number)}{_AFTER}", number


def _vessel(value: str) -> Form:
    canonical = _canonical("vessel", value)
    if canonical is not None:
        digits = canonical.removeprefix("IMO")
        prefix = r"(?:IMO[\s:.#\-]{0,3}(?:no\.?|number)?[\s:.#\-]{0,3})?"
        return _BEFORE + prefix + _compact(digits) + _AFTER, digits
    words = _tokens(value)
    if len(words) > 1 and words[0].lower() in _VESSEL_PREFIXES:
        words = words[1:]
    if not any(char.isalnum() for char in "".join(words)):
        return _literal(value)
    prefixes = _alternation(re.escape(prefix).replace("/", "/?") for prefix in _VESSEL_PREFIXES)
    name = _WORD_SEP.join(_word(word) for word in words)
    return f"{_BEFORE}(?:{prefixes}\\.?{_WORD_SEP})?{name}{_AFTER}", _longest(words)


def _phone(value: str) -> Form:
    canonical = _canonical("phone", value) or value
    try:
        number = phonenumbers.parse(canonical, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not number.country_code:
        digits = "".join(char for char in value if char.isdigit())
        if not digits:
            return _literal(value)
        return _BEFORE + r"\+?" + _PHONE_SEP + _compact(digits, _PHONE_SEP) + r"(?!\d)", digits
    national = phonenumbers.national_significant_number(number)
    significant = _compact(national, _PHONE_SEP)
    country = _compact(str(number.country_code), _PHONE_SEP)
    forms = [
        # +44 7700 900123, 0044 7700 900123, 011 44 ..., +44 (0)7700 900123
        rf"(?:\+|00|011){_PHONE_SEP}{country}{_PHONE_SEP}(?:\(?0\)?{_PHONE_SEP})?{significant}",
        significant,  # 7700 900123
    ]
    region = phonenumbers.region_code_for_country_code(number.country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    national_prefix = metadata.national_prefix if metadata is not None else None
    if national_prefix:  # 07700 900123, (07700) 900123
        forms.append(rf"\(?{_compact(national_prefix, _PHONE_SEP)}{_PHONE_SEP}{significant}")
    return _BEFORE + _alternation(forms) + r"(?!\d)", national


def _email(value: str) -> Form:
    written = unicodedata.normalize("NFKC", value).strip().lower()
    canonical = _canonical("email", value) or written
    local, _, domain = canonical.rpartition("@")
    domains = {domain, written.rpartition("@")[2].rstrip(".")}
    if not local or not all(domains):
        return _literal(value)
    at = r"(?:\s*@\s*|\s*[\[(<{]\s*at\s*[\])>}]\s*|\s+at\s+)"
    dot = r"(?:\.|\s*[\[(<{]\s*dot\s*[\])>}]\s*|\s+dot\s+)"

    def dotted(text: str) -> str:
        return dot.join(re.escape(part) for part in text.split("."))

    before = r"(?<![\w.!#$%&'*+/=?^`{|}~\-])"
    after = r"(?![\w\-]|\.[\w\-])"
    return before + dotted(local) + at + _alternation(dotted(d) for d in domains) + after, local


def _organisation(value: str) -> Form:
    words = _tokens(value)
    core = list(words)
    while len(core) > 1 and core[-1].lower().rstrip(".") in _LEGAL_SUFFIXES:
        core.pop()
    if not any(char.isalnum() for char in "".join(core)):
        return _literal(value)
    parts = [r"(?:&|and)" if word.lower() in {"&", "and"} else _word(word) for word in core]
    suffixes = _alternation(
        re.escape(suffix).replace(r"\.", r"\.?") for suffix in sorted(_LEGAL_SUFFIXES)
    )
    optional_suffix = f"(?:{_WORD_SEP}{suffixes}\\.?){{0,2}}"
    needle = _longest(word for word in core if word.lower() not in {"&", "and"})
    return _BEFORE + _WORD_SEP.join(parts) + optional_suffix + _AFTER, needle


def _other(value: str) -> Form:
    words = _tokens(value) or [value]
    pattern = r"[\s,]+".join(re.escape(word) for word in words)
    before = _BEFORE if value[:1].isalnum() else ""
    after = _AFTER if value[-1:].isalnum() else ""
    return before + pattern + after, _longest(words)


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


def _person_name(name: str) -> Form:
    forenames, surname = _name_parts(name)
    core = _WORD_SEP.join(_word(word) for word in surname)
    if not forenames:
        return _BEFORE + core + _AFTER, " ".join(surname)
    initials = {
        _fold_letter(word[0]).upper() for word in forenames if word[0].isalpha()
    }  # J. Smith, J.P. SMITH
    forename = _alternation(
        [_word(word) for word in forenames]
        + [f"(?-i:{re.escape(letter)})\\.?" for letter in sorted(initials)]
    )
    forename_words = _alternation(_word(word) for word in forenames)
    count = len(forenames) + 1
    # Forenames (or initials) before the surname, forenames after it (`SMITH, John`);
    # the surname alone matches too (no repetitions).
    pattern = (
        f"{_BEFORE}(?:{forename}{_WORD_SEP}){{0,{count}}}{core}"
        f"(?:{_WORD_SEP}{forename_words}){{0,{count}}}{_AFTER}"
    )
    return pattern, " ".join(surname)


def _date_of_birth(born: dt.date) -> Form:
    day = f"0?{born.day}" if born.day < 10 else str(born.day)
    month = f"0?{born.month}" if born.month < 10 else str(born.month)
    year = str(born.year)
    short_year = f"{born.year % 100:02d}"
    name = _MONTHS[born.month - 1]
    month_names = [name, name[:3]] + (["sept"] if born.month == 9 else [])
    month_word = _alternation(re.escape(word) for word in month_names) + r"\.?"
    numeric_separator = r"(?:\s*[/.\-]\s*|\s+)"
    ordinal = r"(?:st|nd|rd|th)?"
    forms = [
        # 29/02/1980, 29.2.80, 29-02-1980, 29 02 1980
        f"{day}{numeric_separator}{month}{numeric_separator}(?:{year}|{short_year})",
        # 1980-02-29, 1980/2/29, 19800229
        f"{year}[/.\\-]{month}[/.\\-]{day}",
        f"{year}{born.month:02d}{born.day:02d}",
        # 29 Feb 1980, 29th of February 1980, 29-Feb-80
        f"{day}{ordinal}(?:\\s+of)?[\\s\\-/.,]+{month_word}[\\s\\-/.,]+(?:{year}|'?{short_year})",
        # February 29, 1980
        f"{month_word}[\\s\\-]+{day}{ordinal},?\\s+{year}",
    ]
    return r"(?<!\d)" + _alternation(forms) + r"(?!\d)", short_year  # in every form


# -- the public functions ----------------------------------------------------------------


class Finder:
    """Finds the mentions of one subject: a regular expression per form, each behind a needle.

    A form's regular expression runs on a text only when the text's `skeleton`
    contains the form's needle (every match contains it, so skipping loses
    nothing); most texts name few of the withheld subjects, and a substring
    test is far cheaper than a case-insensitive scan.
    """

    __slots__ = ("forms",)

    def __init__(self, forms: Iterable[Form]) -> None:
        """Compile the forms.

        Args:
            forms: (regular expression, needle source) pairs.
        """
        self.forms = tuple(
            (_needle(needle), re.compile(source, re.IGNORECASE)) for source, needle in forms
        )

    def find(self, text: str, text_skeleton: str | None = None) -> list[tuple[int, int]]:
        """Every stretch of `text` a form matches, overlaps included, in order of start.

        After each match, every position inside it is tried too, so a mention
        that starts inside another is found (the caller merges the stretches);
        the search then goes on from the end of the match.

        Args:
            text: free text.
            text_skeleton: `skeleton(text)`, when the caller has it already.

        Returns:
            (start, end) offsets.
        """
        if text_skeleton is None:
            text_skeleton = skeleton(text)
        found: list[tuple[int, int]] = []
        for needle, pattern in self.forms:
            if needle not in text_skeleton:
                continue
            search, anchored = pattern.search, pattern.match
            position = 0
            while (match := search(text, position)) is not None:
                start, end = match.span()
                found.append((start, end))
                inside = start + 1
                while inside < end:  # a mention starting inside this one
                    if (overlap := anchored(text, inside)) is not None:
                        found.append(overlap.span())
                        end = max(end, overlap.end())
                    inside += 1
                position = max(end, start + 1)
        found.sort()
        return found

    def search(self, text: str) -> bool:
        """Whether `text` mentions the subject at all.

        Args:
            text: free text.

        Returns:
            True when any form matches.
        """
        text_skeleton = skeleton(text)
        return any(
            needle in text_skeleton and pattern.search(text) is not None
            for needle, pattern in self.forms
        )


def _needle(source: str) -> str:
    """The skeleton of a needle source; empty (always search) unless it is plain ASCII.

    Only ASCII letters and digits have every form the case-insensitive search
    accepts mapped by `_SKELETON`; for any other letter, skip no text.
    """
    needle = skeleton(source)
    return needle if needle.isascii() else ""


@functools.lru_cache(maxsize=4096)
def _finder(key: tuple[str, str, str, str]) -> Finder:
    subject_type, value, country, born = key
    match subject_type:
        case "vehicle":
            forms = [_vehicle(value)]
        case "container":
            forms = [_container(value)]
        case "vessel":
            forms = [_vessel(value)]
        case "phone":
            forms = [_phone(value)]
        case "email":
            forms = [_email(value)]
        case "passport":
            forms = [_passport(country, value)]
        case "organisation":
            forms = [_organisation(value)]
        case "person":
            forms = [_person_name(value)]
            if born:
                forms.append(_date_of_birth(dt.date.fromisoformat(born)))
        case _:
            forms = [_other(value)]
    return Finder(forms)


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
        Its finder (built once per identifier, then cached).
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
