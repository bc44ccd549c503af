"""Identifier normalisation and validation, every subject type (issue 3, deliverable 1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dissemination import IdentifierError, InputError
from dissemination.identifiers import (
    IDENTIFIER_TYPES,
    NormalisedIdentifier,
    normalise,
    normalise_value,
)
from dissemination.models import PassportSubject, PersonSubject, ValueSubject
from dissemination.policy import default_vocabulary
from dissemination.registry.keys import KeyRing, RegistryKey
from tests.strategies import identifier_variants

RING = KeyRing((RegistryKey("k1", b"k" * 32),))


@pytest.mark.parametrize(
    ("kind", "written", "canonical"),
    [
        ("container", "MSCU1234566", "MSCU1234566"),
        ("container", "mscu 123456 6", "MSCU1234566"),
        ("container", "MSCU 123456-6", "MSCU1234566"),
        ("vessel", "IMO 9074729", "IMO9074729"),
        ("vessel", "imo9074729", "IMO9074729"),
        ("vessel", "9074729", "IMO9074729"),
        ("phone", "+44 7700 900123", "+447700900123"),
        ("phone", "07700 900123", "+447700900123"),
        ("phone", "(07700) 900-123", "+447700900123"),
        ("phone", "+31 20 123 4567", "+31201234567"),
        ("vehicle", "AB12 CDE", "AB12CDE"),
        ("vehicle", "ab12cde", "AB12CDE"),
        ("vehicle", " AB 12 CDE ", "AB12CDE"),
        ("vehicle", "ab12-cde", "AB12CDE"),
        ("email", "Fic.Hull@Example.GOV.uk", "fic.hull@example.gov.uk"),
        ("email", " someone@bücher.example ", "someone@xn--bcher-kva.example"),
        ("organisation", "Acme Freight Limited", "acme freight ltd"),
        ("organisation", "ACME  freight, Ltd.", "acme freight ltd"),
        ("organisation", "Smith & Sons", "smith and sons"),
        ("other", "  Red   VAN ", "red van"),
    ],
)
def test_value_types_normalise(kind: str, written: str, canonical: str) -> None:
    assert normalise_value(kind, written) == NormalisedIdentifier(kind, canonical)


def test_person_is_sorted_name_and_date_of_birth() -> None:
    born = dt.date(1980, 2, 29)
    expected = NormalisedIdentifier("person", "john smith|1980-02-29")
    for name in ("John SMITH", "SMITH, John", "  john   smith "):
        assert normalise_value("person", name, date_of_birth=born) == expected
    assert normalise_value("person", "John Smith", date_of_birth="1980-02-29") == expected
    assert normalise_value("person", "Seán O'Brien", date_of_birth=born).canonical == (
        "obrien sean|1980-02-29"
    )
    # The date of birth is part of the identity.
    other = normalise_value("person", "John Smith", date_of_birth=dt.date(1980, 3, 1))
    assert other != expected


def test_passport_is_country_and_number() -> None:
    assert normalise_value("passport", "1234 56789", country="gbr").canonical == "GBR:123456789"
    assert normalise_value("passport", "123456789", country="NLD") != normalise_value(
        "passport", "123456789", country="GBR"
    )


def test_subject_models_normalise() -> None:
    assert normalise(ValueSubject(type="container", value="mscu 1234566")).canonical == (
        "MSCU1234566"
    )
    person = PersonSubject(type="person", name="John SMITH", date_of_birth=dt.date(1980, 2, 29))
    assert normalise(person).canonical == "john smith|1980-02-29"
    passport = PassportSubject(type="passport", country="GBR", value="123456789")
    assert normalise(passport).canonical == "GBR:123456789"


@pytest.mark.parametrize(
    ("kind", "value", "extra", "problem"),
    [
        ("container", "MSCU1234565", {}, "check digit does not match (ISO 6346)"),
        ("container", "MSCX1234566", {}, "expected owner code and category"),
        ("container", "MSCU12345", {}, "expected 11 characters"),
        ("vessel", "IMO 9074728", {}, "IMO number check digit does not match"),
        ("vessel", "Sea Breeze", {}, "expected an IMO number"),
        ("phone", "12", {}, "not a possible number"),
        ("phone", "call me", {}, "not a phone number"),
        ("vehicle", "AB12 CDE!", {}, "expected letters and digits"),
        ("vehicle", "ABCDEFGHIJK", {}, "expected letters and digits"),
        ("passport", "123456789", {}, "issuing country"),
        ("passport", "12", {"country": "GBR"}, "5 to 20 letters and digits"),
        ("email", "nobody", {}, "expected one address"),
        ("email", "a@localhost", {}, "the domain is not valid"),
        ("email", "a b@example.com", {}, "expected one address"),
        ("person", "John Smith", {}, "`date_of_birth` is needed"),
        ("person", "1234", {"date_of_birth": "1980-01-01"}, "the name has no letters"),
        ("person", "John", {"date_of_birth": "29/02/1980"}, "not an ISO 8601 date"),
        ("organisation", "...", {}, "the name has no letters"),
        ("other", "   ", {}, "the value is empty"),
        ("starship", "NCC-1701", {}, "unknown subject type"),
    ],
)
def test_bad_identifiers_are_clear_errors(
    kind: str, value: str, extra: dict[str, Any], problem: str
) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalise_value(kind, value, **extra)
    error = caught.value
    assert isinstance(error, InputError)
    assert error.subject_type == kind
    assert problem in error.problem
    message = str(error)
    assert f"`{kind}`" in message
    assert "\n" not in message
    assert not message.endswith(".")
    # The message names the type and the problem, never the value.
    if value.strip():
        assert value.strip() not in message


def test_the_brief_examples() -> None:
    assert normalise_value("container", "MSCU1234566").canonical == "MSCU1234566"
    with pytest.raises(IdentifierError, match=r"invalid `container` identifier: check digit"):
        normalise_value("container", "MSCU1234565")
    vehicles = {normalise_value("vehicle", text) for text in ("AB12 CDE", "ab12cde", " AB 12 CDE ")}
    assert vehicles == {NormalisedIdentifier("vehicle", "AB12CDE")}


def test_every_type_is_covered() -> None:
    # Every subject type the default profile allows can be normalised (none
    # falls through to "unknown subject type"), and the list is sorted.
    assert set(IDENTIFIER_TYPES) == set(default_vocabulary().subject_types)
    assert list(IDENTIFIER_TYPES) == sorted(IDENTIFIER_TYPES)
    problems = []
    for kind in IDENTIFIER_TYPES:
        try:
            normalise_value(kind, "x")
        except IdentifierError as error:
            problems.append(error.problem)
    assert not [problem for problem in problems if "unknown subject type" in problem]


@settings(max_examples=300, deadline=None)
@given(case=identifier_variants())
def test_variants_of_one_identifier_give_one_digest(
    case: tuple[str, str, dict[str, Any], list[str]],
) -> None:
    kind, canonical, extra, variants = case
    normalised = {normalise_value(kind, variant, **extra) for variant in variants}
    assert normalised == {NormalisedIdentifier(kind, canonical)}
    digests = {RING.digest(identifier) for identifier in normalised}
    assert len(digests) == 1


@settings(max_examples=300, deadline=None)
@given(first=identifier_variants(), second=identifier_variants())
def test_different_identifiers_give_different_digests(
    first: tuple[str, str, dict[str, Any], list[str]],
    second: tuple[str, str, dict[str, Any], list[str]],
) -> None:
    one = normalise_value(first[0], first[3][0], **first[2])
    two = normalise_value(second[0], second[3][0], **second[2])
    assert (one == two) == (RING.digest(one) == RING.digest(two))


@given(kind=st.sampled_from(["vehicle", "other", "organisation"]), value=st.text(max_size=30))
def test_normalisation_is_idempotent_or_an_error(kind: str, value: str) -> None:
    try:
        once = normalise_value(kind, value)
    except IdentifierError:
        return
    assert normalise_value(kind, once.canonical) == once


def test_same_text_of_two_types_gives_two_digests() -> None:
    one = normalise_value("other", "ab12cde")
    two = normalise_value("vehicle", "ab12cde")
    assert RING.digest(one) != RING.digest(two)
