"""Findings of the security review, each pinned by a test that failed before its fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dissemination import DocumentError, InputError, PolicyError, load_policy
from dissemination.loading import parse_document, parse_item, parse_principal
from dissemination.policy import DEFAULT_POLICY_DIR
from tests.strategies import item_doc

AGENCY_CAP = "p, cap.agency, employment.agency, sanitised, -, deny"
HIDE_REQUESTED = "p2, hide.sanitised.requested, sanitised, category.sanitise_requested, deny"


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    return target


def _edit(directory: Path, old: str, new: str) -> None:
    path = directory / "policy.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_bytes(text.replace(old, new).encode("utf-8"))


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\r"])
def test_a_line_break_casbin_does_not_see_is_refused(copied: Path, separator: str) -> None:
    """casbin splits the file on `\\n` only; Python's `splitlines` on more.

    `deny<sep># note` read by `splitlines` is a deny row and a comment; casbin
    reads one row whose effect is `deny<sep># note`, neither allow nor deny, so
    the cap never applied (an agency reader got `full`).
    """
    _edit(copied, AGENCY_CAP, AGENCY_CAP + separator + "# note")
    with pytest.raises(PolicyError, match="a line break casbin does not see"):
        load_policy(copied)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (AGENCY_CAP, AGENCY_CAP.replace("sanitised", "SANITISED")),
        (HIDE_REQUESTED, HIDE_REQUESTED.replace(", sanitised,", ", Sanitised,")),
        (HIDE_REQUESTED, HIDE_REQUESTED.replace(", sanitised,", ", sanitised ,")),
    ],
)
def test_a_view_casbin_would_not_match_is_refused(copied: Path, old: str, new: str) -> None:
    """casbin compares the view as written; a view in another case never matched.

    A `p2` deny row written `Sanitised` was inert (the categories an originator
    asked to sanitise were shown at `sanitised`); a `p` row so written made
    `decide` raise `KeyError`.
    """
    _edit(copied, old, new)
    if new.endswith("sanitised , category.sanitise_requested, deny"):
        load_policy(copied)  # spaces around a field: both readers strip them
        return
    with pytest.raises(PolicyError, match=r"view `S\w*` must be written `sanitised`"):
        load_policy(copied)


@pytest.mark.parametrize(
    "row",
    [
        "p, cap.agency[, employment.agency, sanitised, -], deny",
        "p, cap.agency(, employment.agency, sanitised, -), deny",
        "p, cap.agency], employment.agency, sanitised, -, deny",
    ],
)
def test_brackets_casbin_would_group_are_refused(copied: Path, row: str) -> None:
    """casbin does not split on a comma inside `[...]` or `(...)`: it read other fields."""
    _edit(copied, AGENCY_CAP, row)
    with pytest.raises(PolicyError, match="casbin reads as grouping"):
        load_policy(copied)


def test_a_policy_file_with_crlf_line_ends_still_loads(copied: Path) -> None:
    path = copied / "policy.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert len(load_policy(copied).rows) == len(load_policy(DEFAULT_POLICY_DIR).rows)


CONTENT_KEY = "Agent BLUEBIRD met the driver at Hull docks on Tuesday night"


@pytest.mark.parametrize(
    "text",
    [
        '{"id": 1, "%s": 1, "%s": 2}' % (CONTENT_KEY, CONTENT_KEY),  # noqa: UP031 (JSON braces)
        'id: 1\n"%s": 1\n"%s": 2\n' % (CONTENT_KEY, CONTENT_KEY),  # noqa: UP031 (YAML quotes)
    ],
)
def test_a_duplicate_key_is_not_quoted_in_the_error(text: str) -> None:
    """A key may be content (a mis-indented line of text); messages never quote content."""
    with pytest.raises(InputError, match="duplicate key") as caught:
        parse_document(text, source="f")
    assert "BLUEBIRD" not in str(caught.value)


@pytest.mark.parametrize(
    "data",
    [
        item_doc(**{CONTENT_KEY: 1}),
        item_doc(portions=[{"id": "p1", "category": "tearline", "text": "x", CONTENT_KEY: 1}]),
    ],
)
def test_an_unknown_field_is_not_quoted_in_the_error(data: dict[str, object]) -> None:
    with pytest.raises(DocumentError, match="unknown field") as caught:
        parse_item(data, source="f")
    assert "BLUEBIRD" not in str(caught.value)
    assert "BLUEBIRD" not in caught.value.field


def test_a_short_unknown_field_is_not_named_either() -> None:
    """A short key may be content too (`Codename NIGHTJAR`, issue 10): only the path to it."""
    with pytest.raises(DocumentError, match=r"`portions\.0\.\?`: unknown field") as caught:
        parse_item(
            item_doc(portions=[{"id": "p1", "category": "tearline", "text": "x", "NIGHTJAR": 1}]),
            source="f",
        )
    assert "NIGHTJAR" not in str(caught.value)


def test_a_field_of_the_contract_in_the_wrong_place_is_named() -> None:
    with pytest.raises(DocumentError, match=r"`portions\.0\.min_vetting`: unknown field"):
        parse_item(
            item_doc(
                portions=[{"id": "p1", "category": "tearline", "text": "x", "min_vetting": 1}]
            ),
            source="f",
        )


def test_an_employment_the_profile_does_not_know_is_refused(copied: Path) -> None:
    """A profile without `contractor` has no row capping contractors: one would get `full`.

    Like an unknown vetting level, an employment type outside the profile's
    vocabulary is a load error naming the field.
    """
    profile = copied / "profile.yaml"
    text = profile.read_text(encoding="utf-8")
    old = "employment: [crown-servant, agency, contractor, secondee, partner]"
    assert old in text
    profile.write_text(text.replace(old, "employment: [crown-servant, agency, secondee, partner]"))
    policy_csv = copied / "policy.csv"
    lines = policy_csv.read_text(encoding="utf-8").splitlines()
    policy_csv.write_text("\n".join(line for line in lines if "contractor" not in line) + "\n")
    policy = load_policy(copied)
    data = {
        "id": "c1",
        "organisation": "border-force",
        "employment": "contractor",
        "vetting": {"level": "SC"},
        "nationality": "GBR",
    }
    with pytest.raises(DocumentError, match=r"principal `employment`: unknown employment"):
        parse_principal(data, source="f", policy=policy)
    parse_principal({**data, "employment": "agency"}, source="f", policy=policy)


def test_an_identifier_error_never_quotes_a_long_or_multi_line_type() -> None:
    from dissemination.errors import IdentifierError

    error = IdentifierError(subject_type="container\nJohn SMITH born 1980", problem="unknown type")
    assert "\n" not in str(error)
    assert "SMITH" not in str(error)
    assert "invalid `container` identifier" in str(
        IdentifierError(subject_type="container", problem="bad check digit")
    )
