"""Subject identifiers: one canonical text per real-world thing, or a clear error.

The deconfliction keys of DESIGN §2 arrive typed by hand, copied from manifests
and read off number plates, so one container is written `MSCU1234566`,
`mscu 123456-6` and `MSCU 123456 6`. This module turns every way of writing an
identifier into one canonical text, and refuses an identifier that cannot be
right (a container number whose ISO 6346 check digit does not match) instead
of letting it silently miss every lookup.

Pure functions of their arguments: no I/O, no clock, no globals. The ownership
registry feeds `normalise` into its blind index; the free-text masking reuses
`normalise_value` to recognise mentions of a withheld subject.

Each type, its canonical form, and what validates it:

- `container`: `MSCU1234566`; ISO 6346 owner code, category and check digit (python-stdnum)
- `vessel`: `IMO9074729`; IMO number check digit (python-stdnum)
- `phone`: `+447700900123` (E.164); phonenumbers: a possible number; national numbers read as GB
- `vehicle`: `AB12CDE`; letters and digits only, separators dropped, upper case
- `passport`: `GBR:123456789`; issuing country (alpha-3) and a 5-20 character number
- `email`: `name@example.gov.uk`; one `@`, a dotted domain (IDNA), all lower case
- `person`: `john smith|1980-02-29` (name parts sorted); a name and a date of birth
- `organisation`: `acme freight ltd`; a name with letters or digits
- `other`: the text, case-folded, spaces collapsed; non-empty

Names (people, organisations) are case-folded, stripped of accents and
punctuation; a person's name parts are sorted, because records write
`SMITH, John` as often as `John Smith`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

import phonenumbers
from stdnum import imo, iso6346
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError

from dissemination.errors import IdentifierError
from dissemination.models import Item, PassportSubject, PersonSubject, ValueSubject

__all__ = [
    "DEFAULT_PHONE_REGION",
    "IDENTIFIER_TYPES",
    "NormalisedIdentifier",
    "normalise",
    "normalise_subjects",
    "normalise_value",
]

IDENTIFIER_TYPES: Final = (
    "container",
    "email",
    "organisation",
    "other",
    "passport",
    "person",
    "phone",
    "vehicle",
    "vessel",
)
"""Every subject type of DESIGN §2, in alphabetical order."""

DEFAULT_PHONE_REGION: Final = "GB"
"""The region a phone number without a `+` country code is read in."""

_SEPARATORS = re.compile(r"[\s\-.]+")
_ALNUM = re.compile(r"^[A-Z0-9]+$")
_PASSPORT_NUMBER = re.compile(r"^[A-Z0-9]{5,20}$")
_COUNTRY = re.compile(r"^[A-Z]{3}$")
_EMAIL_LOCAL = re.compile(r"^[^\s@]{1,64}$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TOP_LEVEL = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_NAME_JUNK = re.compile(r"[^\w\s]|_")
_ORGANISATION_WORDS: Final = {"limited": "ltd", "incorporated": "inc"}


@dataclass(frozen=True, slots=True, order=True)
class NormalisedIdentifier:
    """A subject identifier in its one canonical form.

    Two subjects are the same real-world thing exactly when their normalised
    identifiers are equal.

    Attributes:
        type: the subject type (`container`, `person`, ...).
        canonical: the canonical text for that type (see the module table).
    """

    type: str
    canonical: str


def _fold(text: str) -> str:
    """Compatibility-normalise, drop accents, case-fold."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return stripped.casefold()


def _compact_upper(text: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def _container(value: str) -> str:
    try:
        return str(iso6346.validate(_compact_upper(value)))
    except InvalidChecksum:
        raise IdentifierError(
            subject_type="container", problem="check digit does not match (ISO 6346)"
        ) from None
    except InvalidLength:
        raise IdentifierError(
            subject_type="container",
            problem="expected 11 characters: owner code, category, serial, check digit",
        ) from None
    except StdnumValidationError:
        raise IdentifierError(
            subject_type="container",
            problem="expected owner code and category (4 letters, ending U, J or Z), "
            "6 digits and a check digit (ISO 6346)",
        ) from None


def _vessel(value: str) -> str:
    try:
        number = str(imo.validate(_compact_upper(value)))
    except InvalidChecksum:
        raise IdentifierError(
            subject_type="vessel", problem="IMO number check digit does not match"
        ) from None
    except (InvalidFormat, InvalidLength, InvalidComponent, StdnumValidationError):
        raise IdentifierError(
            subject_type="vessel", problem="expected an IMO number (7 digits, `IMO` optional)"
        ) from None
    return f"IMO{number}"


def _phone(value: str, region: str) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise IdentifierError(subject_type="phone", problem="not a phone number") from None
    # A *possible* number (right length for its country), not a *valid* one:
    # validity follows each country's current allocations, which change, and
    # would refuse numbers from ranges the metadata does not know yet.
    if not phonenumbers.is_possible_number(number):
        raise IdentifierError(subject_type="phone", problem="not a possible number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _vehicle(value: str) -> str:
    plate = _compact_upper(value)
    if not plate or len(plate) > 10 or not _ALNUM.match(plate):
        raise IdentifierError(
            subject_type="vehicle", problem="expected letters and digits (at most 10)"
        )
    return plate


def _passport(country: str | None, value: str) -> str:
    if country is None or not _COUNTRY.match(country.strip().upper()):
        raise IdentifierError(
            subject_type="passport", problem="expected the issuing country (ISO 3166 alpha-3)"
        )
    number = _compact_upper(value)
    if not _PASSPORT_NUMBER.match(number):
        raise IdentifierError(
            subject_type="passport", problem="expected a number of 5 to 20 letters and digits"
        )
    return f"{country.strip().upper()}:{number}"


def _email(value: str) -> str:
    text = unicodedata.normalize("NFKC", value).strip()
    local, at, domain = text.rpartition("@")
    if not at or not _EMAIL_LOCAL.match(local):
        raise IdentifierError(subject_type="email", problem="expected one address, `name@domain`")
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise IdentifierError(subject_type="email", problem="the domain is not valid") from None
    labels = ascii_domain.split(".")
    if (
        len(labels) < 2
        or not all(_DOMAIN_LABEL.match(label) for label in labels)
        or not _TOP_LEVEL.match(labels[-1])
    ):
        raise IdentifierError(subject_type="email", problem="the domain is not valid")
    return f"{local.lower()}@{ascii_domain}"


def _words(text: str) -> list[str]:
    """Name words: folded; apostrophes join (O'Brien is obrien), other punctuation splits."""
    joined = _fold(text).replace("'", "").replace("\u2019", "")
    return _NAME_JUNK.sub(" ", joined).split()


def _person(name: str, date_of_birth: dt.date | str | None) -> str:
    words = _words(name)
    if not any(char.isalpha() for word in words for char in word):
        raise IdentifierError(subject_type="person", problem="the name has no letters")
    if date_of_birth is None:
        raise IdentifierError(
            subject_type="person",
            problem="`date_of_birth` is needed (a name alone does not identify a person)",
        )
    if isinstance(date_of_birth, str):
        try:
            date_of_birth = dt.date.fromisoformat(date_of_birth.strip())
        except ValueError:
            raise IdentifierError(
                subject_type="person", problem="`date_of_birth` is not an ISO 8601 date"
            ) from None
    return f"{' '.join(sorted(words))}|{date_of_birth.isoformat()}"


def _organisation(value: str) -> str:
    words = [_ORGANISATION_WORDS.get(word, word) for word in _words(value.replace("&", " and "))]
    if not words or not any(char.isalnum() for word in words for char in word):
        raise IdentifierError(subject_type="organisation", problem="the name has no letters")
    return " ".join(words)


def _other(value: str) -> str:
    text = " ".join(_fold(value).split())
    if not text:
        raise IdentifierError(subject_type="other", problem="the value is empty")
    return text


def normalise_value(
    subject_type: str,
    value: str,
    *,
    country: str | None = None,
    date_of_birth: dt.date | str | None = None,
    phone_region: str = DEFAULT_PHONE_REGION,
) -> NormalisedIdentifier:
    """Normalise an identifier given as text: the form a lookup or a free-text scan has.

    Args:
        subject_type: one of `IDENTIFIER_TYPES`.
        value: the identifier as written; for a `person`, the name.
        country: a passport's issuing country (ISO 3166 alpha-3).
        date_of_birth: a person's date of birth (a date or ISO 8601 text).
        phone_region: the region a phone number without `+` is read in.

    Returns:
        The canonical identifier.

    Raises:
        IdentifierError: the type is unknown, or the value cannot be an
            identifier of that type (the message names the type and the
            problem, never the value).
    """
    match subject_type:
        case "container":
            canonical = _container(value)
        case "vessel":
            canonical = _vessel(value)
        case "phone":
            canonical = _phone(value, phone_region)
        case "vehicle":
            canonical = _vehicle(value)
        case "passport":
            canonical = _passport(country, value)
        case "email":
            canonical = _email(value)
        case "person":
            canonical = _person(value, date_of_birth)
        case "organisation":
            canonical = _organisation(value)
        case "other":
            canonical = _other(value)
        case _:
            raise IdentifierError(
                subject_type=subject_type,
                problem=f"unknown subject type, expected one of {', '.join(IDENTIFIER_TYPES)}",
            )
    return NormalisedIdentifier(subject_type, canonical)


def normalise(
    subject: ValueSubject | PersonSubject | PassportSubject,
    *,
    phone_region: str = DEFAULT_PHONE_REGION,
) -> NormalisedIdentifier:
    """Normalise an item's subject.

    Args:
        subject: a subject of an item (DESIGN §2).
        phone_region: the region a phone number without `+` is read in.

    Returns:
        The canonical identifier.

    Raises:
        IdentifierError: the subject's identifier cannot be right for its type.
    """
    if isinstance(subject, PersonSubject):
        return normalise_value("person", subject.name, date_of_birth=subject.date_of_birth)
    if isinstance(subject, PassportSubject):
        return normalise_value("passport", subject.value, country=subject.country)
    return normalise_value(subject.type, subject.value, phone_region=phone_region)


def normalise_subjects(
    item: Item, *, phone_region: str = DEFAULT_PHONE_REGION
) -> tuple[NormalisedIdentifier, ...]:
    """Normalise every subject of an item, in order; the first bad one is an error.

    Args:
        item: the item.
        phone_region: the region a phone number without `+` is read in.

    Returns:
        One identifier per subject, in item order.

    Raises:
        IdentifierError: a subject's identifier cannot be right; the error
            names the item and the subject's place (`subjects.1`).
    """
    identifiers = []
    for index, subject in enumerate(item.subjects):
        try:
            identifiers.append(normalise(subject, phone_region=phone_region))
        except IdentifierError as error:
            raise IdentifierError(
                subject_type=error.subject_type,
                problem=error.problem,
                field=f"subjects.{index}",
                source=f"item `{item.id}`",
            ) from None
    return tuple(identifiers)
