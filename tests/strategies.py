"""Hypothesis strategies shared by the test suite (one place, reused everywhere).

Every generated text is unique within its item and tagged with what it is
(`PT3Z...` is portion 3's text, `SV1Z...` subject 1's value, `TTZ...` the
title), so a test can search any output for a withheld piece without false
matches between pieces.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import unicodedata
import urllib.parse
from typing import Any

from hypothesis import strategies as st

from dissemination import Item, Principal, default_policy, parse_item, parse_principal

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


def reader_doc(**changes: Any) -> dict[str, Any]:
    """A plain reader document (an SC crown servant of the originator), with `changes`."""
    data: dict[str, Any] = {
        "id": "r1",
        "organisation": "border-force",
        "employment": "crown-servant",
        "vetting": {"level": "SC"},
        "nationality": "GBR",
    }
    data.update(changes)
    return data


def item_doc(**changes: Any) -> dict[str, Any]:
    """A plain item document (OFFICIAL, one tearline portion), with `changes`."""
    data: dict[str, Any] = {
        "id": "IT-1",
        "title": "t",
        "created": "2026-11-20T09:14:00Z",
        "classification": "OFFICIAL",
        "originator": {"organisation": "border-force", "unit": "u"},
        "owner": {"organisation": "border-force", "unit": "u", "contact": "c"},
        "portions": [{"id": "p1", "category": "tearline", "text": "x"}],
    }
    data.update(changes)
    return data


VOCABULARY = default_policy().vocabulary
LEVELS = list(VOCABULARY.vetting_levels)
CLASSIFICATIONS = list(VOCABULARY.classifications)
EMPLOYMENT = list(VOCABULARY.employment)
CATEGORIES = list(VOCABULARY.portion_categories)
ORGANISATIONS = ["border-force", "nca", "hmrc", "nl-customs"]
GROUPS = ["OP-KESTREL", "OP-HERON", "OP-WREN"]
NATIONALITIES = ["GBR", "NLD", "USA"]
PRINCIPAL_IDS = ["reader-1", "reader-2", "reader-3"]
VALUE_SUBJECT_TYPES = ["vehicle", "container", "vessel", "phone", "email", "organisation", "other"]

# Tokens drawn from letters that never occur in the library's own words in
# upper case, so a token in an output can only have come from the input.
token = st.text(alphabet="QXJKZ", min_size=6, max_size=10)

levels = st.sampled_from(LEVELS)
organisations = st.sampled_from(ORGANISATIONS)
moments = st.datetimes(
    min_value=dt.datetime(2026, 1, 1),
    max_value=dt.datetime(2027, 12, 31),
    timezones=st.just(dt.UTC),
)
dates = st.dates(min_value=dt.date(2026, 6, 1), max_value=dt.date(2028, 6, 1))


@st.composite
def vetting(draw: st.DrawFn) -> dict[str, Any] | None:
    """A reader's vetting: none, current, or expired, at some level."""
    if draw(st.booleans()) and draw(st.booleans()):
        return None
    result: dict[str, Any] = {"level": draw(levels)}
    if draw(st.booleans()):
        result["expires"] = draw(dates).isoformat()
    return result


@st.composite
def principal_data(draw: st.DrawFn) -> dict[str, Any]:
    """A reader as plain data (the DESIGN §2 contract)."""
    data: dict[str, Any] = {
        "id": draw(st.sampled_from(PRINCIPAL_IDS)),
        "organisation": draw(organisations),
        "employment": draw(st.sampled_from(EMPLOYMENT)),
        "nationality": draw(st.sampled_from(NATIONALITIES)),
        "roles": [],
        "groups": draw(st.lists(st.sampled_from(GROUPS), unique=True, max_size=2)),
    }
    level = draw(vetting())
    if level is not None:
        data["vetting"] = level
    return data


def principals() -> st.SearchStrategy[Principal]:
    """Validated readers."""
    return principal_data().map(parse_principal)


@st.composite
def handling(draw: st.DrawFn) -> dict[str, Any]:  # noqa: PLR0911 (one return per kind reads best)
    """One handling instruction of any kind the default profile knows."""
    kind = draw(st.sampled_from(list(VOCABULARY.handling_kinds)))
    if kind == "releasable_to":
        orgs = draw(st.lists(organisations, min_size=1, max_size=3, unique=True))
        return {"kind": kind, "organisations": orgs}
    if kind == "need_to_know":
        return {
            "kind": kind,
            "groups": draw(st.lists(st.sampled_from(GROUPS), min_size=1, unique=True)),
        }
    if kind == "embargo":
        return {"kind": kind, "until": draw(moments).isoformat()}
    if kind == "sanitise":
        cats = draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2, unique=True))
        return {"kind": kind, "categories": cats}
    if kind == "recipients_only":
        ids = draw(st.lists(st.sampled_from(PRINCIPAL_IDS), min_size=1, max_size=2, unique=True))
        return {"kind": kind, "principals": ids}
    if kind == "eyes_only":
        nats = draw(st.lists(st.sampled_from(NATIONALITIES), min_size=1, max_size=2, unique=True))
        return {"kind": kind, "nationalities": nats}
    if kind == "descriptor":
        return {"kind": kind, "name": draw(st.sampled_from(["PERSONAL DATA", "LPP", "COMMERCIAL"]))}
    return {"kind": kind}


@st.composite
def marking(draw: st.DrawFn) -> dict[str, Any] | None:
    """A portion or subject marking, or None (most often)."""
    if draw(st.integers(0, 2)) == 0:
        return None
    result: dict[str, Any] = {}
    if draw(st.booleans()):
        result["min_vetting"] = draw(levels)
    if draw(st.booleans()):
        result["handling"] = draw(st.lists(handling(), max_size=2))
    return result


@st.composite
def subject_data(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """A subject whose identifying text is unique and tagged with its index."""
    tag = f"S{index}Z{draw(token)}"
    kind = draw(st.sampled_from(["value", "person", "passport"]))
    if kind == "person":
        data: dict[str, Any] = {"type": "person", "name": f"N{tag}"}
    elif kind == "passport":
        data = {"type": "passport", "country": "GBR", "value": f"P{tag}"}
    else:
        data = {"type": draw(st.sampled_from(VALUE_SUBJECT_TYPES)), "value": f"V{tag}"}
    mark = draw(marking())
    if mark is not None:
        data["marking"] = mark
    return data


@st.composite
def item_data(draw: st.DrawFn, *, extra_handling: bool = True) -> dict[str, Any]:
    """An item as plain data, with unique tagged texts (see the module docstring)."""
    classification = draw(st.sampled_from(CLASSIFICATIONS))
    floor = VOCABULARY.vetting_rank(VOCABULARY.default_vetting(classification))
    originator = draw(organisations)
    portion_count = draw(st.integers(1, 4))
    portions = []
    for index in range(portion_count):
        portion: dict[str, Any] = {
            "id": f"p{index + 1}",
            "category": draw(st.sampled_from(CATEGORIES)),
            "text": f"PT{index + 1}Z{draw(token)}",
        }
        mark = draw(marking())
        if mark is not None:
            portion["marking"] = mark
        portions.append(portion)
    subjects = [draw(subject_data(index + 1)) for index in range(draw(st.integers(0, 3)))]
    data: dict[str, Any] = {
        "id": "IT-1",
        "title": f"TTZ{draw(token)}",
        "created": "2026-11-20T09:14:00Z",
        "classification": classification,
        "originator": {"organisation": originator, "unit": "unit-a"},
        "owner": {"organisation": originator, "unit": "unit-a", "contact": "owner@example.gov.uk"},
        "handling": draw(st.lists(handling(), max_size=3)) if extra_handling else [],
        "consents": draw(st.lists(organisations, max_size=2, unique=True)),
        "subjects": subjects,
        "portions": portions,
    }
    if draw(st.booleans()):
        data["required_vetting"] = LEVELS[draw(st.integers(floor, len(LEVELS) - 1))]
    if draw(st.booleans()):
        code = draw(st.sampled_from(["P", "C"]))
        grading: dict[str, Any] = {"source": "2", "intelligence": "B", "handling_code": code}
        if code == "C":
            grading["conditions"] = "Conditions apply"
        data["grading"] = grading
    return data


def items() -> st.SearchStrategy[Item]:
    """Validated items."""
    return item_data().map(parse_item)


# -- integrity: single changes to an item's label or content ------------------------
# Each change makes exactly one edit an attacker might make in transit: soften a
# label field, add or drop a handling instruction, or alter a piece of content.


def _bump_time(text: str) -> str:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment + dt.timedelta(seconds=1)).isoformat()


_LOWER_CLASSIFICATION = {
    "OFFICIAL": "OFFICIAL-SENSITIVE",
    "OFFICIAL-SENSITIVE": "OFFICIAL",
    "SECRET": "OFFICIAL-SENSITIVE",
    "TOP SECRET": "SECRET",
}


def _change_vetting(data: dict[str, Any]) -> None:
    floor = VOCABULARY.vetting_rank(VOCABULARY.default_vetting(data["classification"]))
    current = data.get("required_vetting") or LEVELS[floor]
    rank = VOCABULARY.vetting_rank(current)
    data["required_vetting"] = LEVELS[floor] if rank > floor else LEVELS[rank + 1]


def _change_subject(subject: dict[str, Any]) -> None:
    if subject["type"] == "person":
        subject["name"] += "Q"
    else:
        subject["value"] += "Q"


def _toggle_marking(part: dict[str, Any]) -> None:
    if part.get("marking"):
        del part["marking"]
    else:
        part["marking"] = {"min_vetting": "DV"}


def _toggle_grading(data: dict[str, Any]) -> None:
    if "grading" in data:
        del data["grading"]
    else:
        data["grading"] = {"source": "1", "intelligence": "A", "handling_code": "P"}


def _change_consents(data: dict[str, Any]) -> None:
    missing = [org for org in ORGANISATIONS if org not in data["consents"]]
    data["consents"] = [*data["consents"], missing[0]] if missing else []


def _swap_texts(data: dict[str, Any]) -> None:
    first, second = data["portions"][0], data["portions"][1]
    first["text"], second["text"] = second["text"], first["text"]


def _classify_lower(data: dict[str, Any]) -> None:
    data["classification"] = _LOWER_CLASSIFICATION[data["classification"]]
    data.pop("required_vetting", None)


def _append(part: dict[str, Any], key: str, suffix: str = "Q") -> None:
    part[key] += suffix


# A change: (item data, a portion of it, a subject of it or {}, draw) -> None, in place.
_CHANGES: dict[str, Any] = {
    "id": lambda d, p, s, draw: _append(d, "id"),
    "created": lambda d, p, s, draw: d.update(created=_bump_time(d["created"])),
    "title": lambda d, p, s, draw: _append(d, "title"),
    "classification": lambda d, p, s, draw: _classify_lower(d),
    "required_vetting": lambda d, p, s, draw: _change_vetting(d),
    "originator.unit": lambda d, p, s, draw: _append(d["originator"], "unit", "-b"),
    "owner.contact": lambda d, p, s, draw: _append(d["owner"], "contact"),
    "handling.add": lambda d, p, s, draw: d["handling"].insert(
        draw(st.integers(0, len(d["handling"]))), draw(handling())
    ),
    "handling.drop": lambda d, p, s, draw: d["handling"].pop(
        draw(st.integers(0, len(d["handling"]) - 1))
    ),
    "grading": lambda d, p, s, draw: _toggle_grading(d),
    "consents": lambda d, p, s, draw: _change_consents(d),
    "portion.text": lambda d, p, s, draw: _append(p, "text"),
    "portion.category": lambda d, p, s, draw: p.update(
        category=draw(st.sampled_from([c for c in CATEGORIES if c != p["category"]]))
    ),
    "portion.marking": lambda d, p, s, draw: _toggle_marking(p),
    "portion.id": lambda d, p, s, draw: p.update(id="p99"),
    "portion.drop": lambda d, p, s, draw: d["portions"].remove(p),
    "portion.swap": lambda d, p, s, draw: _swap_texts(d),
    "subject.value": lambda d, p, s, draw: _change_subject(s),
    "subject.marking": lambda d, p, s, draw: _toggle_marking(s),
    "subject.drop": lambda d, p, s, draw: d["subjects"].remove(s),
}


@st.composite
def label_changes(draw: st.DrawFn, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """One change to an item's label or content: its name and the changed item data.

    Args:
        draw: hypothesis's draw function.
        data: item data from `item_data()` (not modified).

    Returns:
        (what changed, the changed item data, still a valid item).
    """
    changed: dict[str, Any] = json.loads(json.dumps(data))
    kinds = [kind for kind in _CHANGES if not kind.startswith(("subject.", "portion.drop"))]
    kinds = [kind for kind in kinds if kind not in {"handling.drop", "portion.swap"}]
    if changed["handling"]:
        kinds.append("handling.drop")
    if len(changed["portions"]) > 1:
        kinds += ["portion.drop", "portion.swap"]
    if changed["subjects"]:
        kinds += ["subject.value", "subject.marking", "subject.drop"]
    kind = draw(st.sampled_from(kinds))
    portion = draw(st.sampled_from(changed["portions"]))
    subject = draw(st.sampled_from(changed["subjects"])) if changed["subjects"] else {}
    _CHANGES[kind](changed, portion, subject, draw)
    return kind, changed


# -- registry: identifiers, each with the ways people write it ---------------------------

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _spaced(draw: st.DrawFn, text: str) -> str:
    """`text` with separators (space, hyphen) dropped between some characters."""
    out = []
    for char in text:
        out.append(char)
        if draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from([" ", "-", "  "])))
    return "".join(out).strip(" -")


def _case(draw: st.DrawFn, text: str) -> str:
    return draw(st.sampled_from([text, text.lower(), text.upper(), text.swapcase()]))


@st.composite
def container_numbers(draw: st.DrawFn) -> str:
    """A valid ISO 6346 container number, canonical (`MSCU1234566`)."""
    from stdnum import iso6346

    owner = draw(st.text(alphabet=_UPPER, min_size=3, max_size=3))
    category = draw(st.sampled_from("UJZ"))
    serial = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    body = f"{owner}{category}{serial}"
    return body + iso6346.calc_check_digit(body)


@st.composite
def imo_numbers(draw: st.DrawFn) -> str:
    """A valid IMO vessel number, seven digits."""
    from stdnum import imo

    body = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    return body + imo.calc_check_digit(body)


@st.composite
def identifier_variants(draw: st.DrawFn) -> tuple[str, str, dict[str, Any], list[str]]:
    """One identifier written several ways: `(type, canonical, extra, variants)`.

    `extra` holds the keyword arguments of `normalise_value` (a passport's
    country, a person's date of birth). Every variant normalises to `canonical`.
    """
    kind = draw(
        st.sampled_from(
            ["container", "vessel", "phone", "vehicle", "passport", "email", "person", "other"]
        )
    )
    extra: dict[str, Any] = {}
    count = draw(st.integers(1, 4))
    if kind == "container":
        canonical = draw(container_numbers())
        variants = [_case(draw, _spaced(draw, canonical)) for _ in range(count)]
    elif kind == "vessel":
        digits = draw(imo_numbers())
        canonical = f"IMO{digits}"
        variants = [
            draw(st.sampled_from(["", "IMO ", "imo", "IMO-", "Imo "])) + _spaced(draw, digits)
            for _ in range(count)
        ]
    elif kind == "phone":
        subscriber = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
        canonical = f"+447700900{subscriber}"
        variants = [
            draw(
                st.sampled_from(
                    [
                        f"07700 900{subscriber}",
                        f"+44 7700 900{subscriber}",
                        f"(07700) 900 {subscriber}",
                        f"0044 7700 900{subscriber}",
                        f"+447700900{subscriber}",
                    ]
                )
            )
            for _ in range(count)
        ]
    elif kind == "vehicle":
        canonical = draw(st.from_regex(r"\A[A-Z]{2}[0-9]{2}[A-Z]{3}\Z"))
        variants = [" " + _case(draw, _spaced(draw, canonical)) + " " for _ in range(count)]
    elif kind == "passport":
        number = draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
        country = draw(st.sampled_from(NATIONALITIES))
        canonical = f"{country}:{number}"
        extra = {"country": country}
        variants = [_spaced(draw, number) for _ in range(count)]
    elif kind == "email":
        local = draw(st.text(alphabet="abcdefghij.", min_size=1, max_size=8).filter(str.strip))
        domain = draw(st.sampled_from(["example.gov.uk", "example.com", "mail.example.nl"]))
        canonical = f"{local}@{domain}"
        variants = [" " + _case(draw, canonical) + " " for _ in range(count)]
    elif kind == "person":
        first = draw(st.sampled_from(["John", "Mary", "José", "Seán"]))
        last = draw(st.sampled_from(["Smith", "O'Brien", "Nowak", "Müller"]))
        born = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2010, 12, 31)))
        from dissemination.identifiers import normalise_value

        canonical = normalise_value("person", f"{first} {last}", date_of_birth=born).canonical
        extra = {"date_of_birth": born}
        variants = [
            draw(
                st.sampled_from(
                    [
                        f"{first} {last}",
                        f"{last.upper()}, {first}",
                        f"  {first.lower()}   {last.lower()} ",
                        f"{last} {first}",
                    ]
                )
            )
            for _ in range(count)
        ]
    else:
        words = draw(st.lists(st.sampled_from(["red", "van", "blue", "yard", "7"]), min_size=1))
        canonical = " ".join(words)
        variants = [
            _case(draw, draw(st.sampled_from([" ", "  ", "\t"])).join(words)) for _ in range(count)
        ]
    return kind, canonical, extra, variants


# -- masking: a withheld subject, and the ways its identifier is written in prose ------------

_NAME_REST = "aeioubdfgklmnprstvwy"
_MONTHS = "January February March April May June July August September October November December"
_NBSP = "\u00a0"


def compact(text: str) -> str:
    """Letters and digits only, case-folded: the form a leak is searched for in."""
    return "".join(char for char in text.casefold() if char.isalnum())


def _name_token(draw: st.DrawFn) -> str:
    """A name word no library text contains (`qz` is in none): `Qz` and 2 to 6 letters."""
    return "Qz" + draw(st.text(alphabet=_NAME_REST, min_size=2, max_size=6))


def _grouped(draw: st.DrawFn, digits: str) -> str:
    """Digits in random groups, separated by a space, `-`, `.` or a non-breaking space."""
    out = []
    for index, char in enumerate(digits):
        if index and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from([" ", "-", ".", _NBSP, " - "])))
        out.append(char)
    return "".join(out)


def _written_date(draw: st.DrawFn, born: dt.date) -> str:
    month = _MONTHS.split()[born.month - 1]
    day = draw(st.sampled_from([f"{born.day:02d}", str(born.day)]))
    return draw(
        st.sampled_from(
            [
                f"{born.day:02d}/{born.month:02d}/{born.year}",
                f"{day}/{born.month}/{born.year}",
                f"{day}.{born.month:02d}.{born.year}",
                f"{day}-{born.month:02d}-{born.year}",
                f"{day} {month[:3]} {born.year}",
                f"{day} {month} {born.year}",
                f"{day} {month.upper()} {born.year}",
                f"{born.isoformat()}",
                f"{month} {day}, {born.year}",
            ]
        )
    )


def _written_person(draw: st.DrawFn, forename: str, surname: str) -> str:
    form = draw(
        st.sampled_from(
            [
                f"{forename} {surname.upper()}",
                f"{forename} {surname}",
                f"{surname}, {forename}",
                f"{surname.upper()}, {forename}",
                f"{surname.upper()} {forename}",
                f"{forename.lower()} {surname.lower()}",
                f"{forename[0]}. {surname.upper()}",
                f"{surname.upper()}",
            ]
        )
    )
    return form.replace(" ", draw(st.sampled_from([" ", "  ", _NBSP, "\n"])))


@st.composite
def withheld_mentions(  # noqa: PLR0911 (one return per subject type)
    draw: st.DrawFn, kind: str | None = None
) -> tuple[dict[str, Any], str, list[str]]:
    """A subject, one way of writing it in prose, and the forms that must not leak.

    Args:
        draw: hypothesis's draw function.
        kind: the subject type (any when None).

    Returns:
        `(subject data, written, secrets)`: `written` is a mention as someone
        would type it; `secrets` are `compact` forms of the identifier, none of
        which may appear in the `compact` form of any output when the subject
        is withheld.
    """
    kind = kind or draw(
        st.sampled_from(
            [
                "vehicle",
                "container",
                "phone",
                "email",
                "person",
                "passport",
                "vessel",
                "organisation",
                "other",
            ]
        )
    )
    if kind == "vehicle":
        canonical = draw(st.from_regex(r"\A[A-Z]{2}[0-9]{2}[A-Z]{3}\Z"))
        value = draw(st.sampled_from([canonical, f"{canonical[:4]} {canonical[4:]}"]))
        written = _case(draw, _spaced(draw, canonical))
        return {"type": kind, "value": _case(draw, value)}, written, [compact(canonical)]
    if kind == "container":
        canonical = draw(container_numbers())
        written = draw(
            st.sampled_from(
                [
                    canonical,
                    f"{canonical[:4]} {canonical[4:10]} {canonical[10]}",
                    f"{canonical[:4]} {canonical[4:10]}-{canonical[10]}",
                    f"{canonical[:4]}{canonical[4:10]}-{canonical[10]}",
                    f"{canonical[:4]}-{canonical[4:]}",
                ]
            )
        )
        return {"type": kind, "value": canonical}, _case(draw, written), [compact(canonical)]
    if kind == "phone":
        significant = "7" + draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
        value = draw(st.sampled_from([f"+44{significant}", f"0{significant}"]))
        prefix = draw(st.sampled_from(["0", "+44 ", "+44", "0044 ", "+44 (0)", "(0", "00 44 "]))
        body = _grouped(draw, significant)
        written = prefix + (body.replace(" ", ") ", 1) if prefix == "(0" and " " in body else body)
        return {"type": kind, "value": value}, written, [significant]
    if kind == "email":
        local = "q" + draw(st.from_regex(r"\A[a-z0-9]{1,6}(\.[a-z0-9]{1,6})?\Z"))
        domain = draw(st.sampled_from(["example.gov.uk", "example.com", "mail.example.nl"]))
        address = f"{local}@{domain}"
        written = draw(
            st.sampled_from(
                [address, address.upper(), f"{local} [at] {domain}", f"{local}(at){domain}"]
            )
        )
        return {"type": kind, "value": address}, _case(draw, written), [compact(address)]
    if kind == "person":
        forename, surname = _name_token(draw), _name_token(draw)
        born = draw(st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2008, 12, 31)))
        name = draw(
            st.sampled_from([f"{forename} {surname.upper()}", f"{surname.upper()}, {forename}"])
        )
        written = f"{_written_person(draw, forename, surname)} (born {_written_date(draw, born)})"
        subject = {"type": kind, "name": name, "date_of_birth": born.isoformat()}
        secrets = [compact(surname), born.strftime("%d%m%Y"), compact(born.isoformat())]
        return subject, written, secrets
    if kind == "passport":
        number = draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
        subject = {"type": kind, "country": draw(st.sampled_from(NATIONALITIES)), "value": number}
        return subject, _grouped(draw, number), [number]
    if kind == "vessel":
        digits = draw(imo_numbers())
        value = draw(st.sampled_from([f"IMO {digits}", digits, f"IMO{digits}"]))
        prefix = draw(st.sampled_from(["", "IMO ", "imo", "IMO: ", "IMO no. ", "IMO-"]))
        return {"type": kind, "value": value}, prefix + _grouped(draw, digits), [digits]
    words = [_name_token(draw) for _ in range(draw(st.integers(1, 3)))]
    if kind == "organisation":
        suffix = draw(st.sampled_from(["", " Ltd", " Limited", " PLC"]))
        written = draw(st.sampled_from([" ", "  ", "\n"])).join(words)
        written += draw(st.sampled_from(["", " Ltd", " Limited", " ltd.", " PLC"]))
        value = " ".join(words) + suffix
    else:
        written = draw(st.sampled_from([" ", "  ", "\t"])).join(words)
        value = " ".join(words)
    return {"type": kind, "value": value}, _case(draw, written), [compact("".join(words))]


# Text that cannot mention any `withheld_mentions` subject: no digit (every
# number, plate, date is digits) and nothing that folds to `q` (every name,
# e-mail and organisation has one).
unrelated_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Nd"),
        blacklist_characters="qQ\uff51\uff31\u024a\u024b\u02a0",
    ),
    min_size=1,
    max_size=200,
).filter(lambda text: text.strip() and "[[" not in text and "]]" not in text)


# -- masking: inline span markings ([[LEVEL: passage]]) ------------------------------------------

_PLAIN = st.text(alphabet="abcdefghij ,.;()-", min_size=0, max_size=12)


@st.composite
def span_texts(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    """A well-formed text with inline spans: `(text, [(level, passage), ...])`.

    Each passage is a unique tagged token (`SPZ0QXJ...`), so a test can search
    any output for it; levels are drawn in any case (`sc`, `SC`).
    """
    spans: list[tuple[str, str]] = []
    pieces = [draw(_PLAIN)]
    for index in range(draw(st.integers(1, 3))):
        level = draw(levels)
        written_level = draw(st.sampled_from([level, level.lower(), level.upper()]))
        passage = f"SPZ{index}{draw(token)}"
        spacing = draw(st.sampled_from(["", " ", "  "]))
        pieces.append(f"[[{written_level}:{spacing}{passage}]]")
        pieces.append(draw(_PLAIN))
        spans.append((level, passage))
    text = "".join(pieces).strip()
    return (text if text else "x"), spans


_BREAKAGES = {
    "unclosed": lambda text: text[: text.rindex("]]")] + text[text.rindex("]]") + 2 :],
    "stray close": lambda text: text + " ]] ",
    "stray open": lambda text: "[[ " + text,
    "nested": lambda text: text.replace("]]", " [[SC: inner]] ]]", 1),
    "no level": lambda text: text.replace("[[", "[[: ", 1),
    "no colon": lambda text: text + " [[SC passage]]",
    "unknown level": lambda text: text + " [[TOPSECRETQ: passage]]",
    "empty passage": lambda text: text + " [[SC:   ]]",
    "bracket level": lambda text: text + " [[[SC: passage]]",
}


@st.composite
def broken_span_texts(draw: st.DrawFn) -> tuple[str, str, list[tuple[str, str]]]:
    """A text whose inline span markers are malformed or unbalanced.

    Returns:
        `(how it was broken, text, spans of the well-formed text it came from)`.
    """
    text, spans = draw(span_texts())
    how = draw(st.sampled_from(sorted(_BREAKAGES)))
    return how, _BREAKAGES[how](text), spans


# -- masking evasion (issue 10 item 2): a withheld value written to slip past a matcher ------------

EVASIONS = (
    "cf",  # Unicode format characters (zero-width, LRM/RLM, bidi, word joiner, soft hyphen)
    "nfd",  # decomposed accents: a combining mark after a letter
    "compat",  # compatibility forms: fullwidth, mathematical alphanumerics, ligatures
    "percent",  # URL percent-encoding of separators and characters
    "html",  # HTML entities and tags inside or around the value
    "punct",  # underscores and other punctuation as separators
    "spelled",  # e-mail: ` dot `, `[dot]`, ` at `, `(at)` anywhere, local part included
    "dates",  # more dates of birth: `290280`, `Feb 29, 80`, `29/02/'80`, `Febr`, French, Spanish
)
"""The evasion classes of issue 10 item 2, each drawn by `evasive_mentions`."""

_CF = (
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\u00ad\ufeff"
)
_COMBINING = "\u0300\u0301\u0302\u0303\u0308\u030a\u0327\u0328"
_LIGATURES = {"ff": "\ufb00", "fi": "\ufb01", "fl": "\ufb02", "ffi": "\ufb03", "st": "\ufb06"}
_PUNCT = "_*+~|:;,=#!?^"
_TAGS = ("<b>", "</b>", "<i>", "</i>", "<span>", "</span>", "<br>", "<br/>", "<em>", "</em>")
_EN = _MONTHS.split()
_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
_ES = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"


def _compat(draw: st.DrawFn, char: str) -> str:
    """A compatibility form of an ASCII letter or digit (NFKC gives the character back)."""
    if not (char.isascii() and char.isalnum()):
        return char
    forms = [chr(ord(char) + 0xFEE0)]  # fullwidth
    if char.isdigit():
        forms += [chr(0x1D7CE + int(char)), chr(0x1D7EC + int(char))]  # bold, sans-serif bold
    else:
        upper, offset = char.isupper(), ord(char.lower()) - ord("a")
        forms += [chr((0x1D400 if upper else 0x1D41A) + offset)]  # bold
        forms += [chr((0x1D5A0 if upper else 0x1D5BA) + offset)]  # sans-serif
    return draw(st.sampled_from(forms))


def _encoded(draw: st.DrawFn, char: str, classes: set[str]) -> str:
    """One character of a value, perhaps disguised by the drawn classes."""
    options = ["plain"]
    if char.isalnum() and char.isascii():
        options += [name for name in ("nfd", "compat", "percent", "html") if name in classes]
    how = draw(st.sampled_from(options))
    if how == "nfd" and char.isalpha():
        return char + draw(st.sampled_from(_COMBINING))
    if how == "compat":
        return _compat(draw, char)
    if how == "percent":
        return f"%{ord(char):02X}"
    if how == "html":
        return draw(st.sampled_from([f"&#{ord(char)};", f"&#x{ord(char):x};"]))
    return char


def _separator(draw: st.DrawFn, classes: set[str], *, required: bool = False) -> str:
    """What stands between two characters of a value: nothing, or one separator."""
    options = ["", " ", "-"] if not required else [" ", "-"]
    if "punct" in classes:
        options += list(_PUNCT)
    if "percent" in classes:
        options += ["%20", "%2D", "%5F"]
    if "html" in classes:
        options += ["&nbsp;", "&#32;", "&#160;", *_TAGS]
    return draw(st.sampled_from(options))


def _cf(draw: st.DrawFn, classes: set[str]) -> str:
    if "cf" not in classes or draw(st.integers(0, 2)):
        return ""
    return "".join(draw(st.lists(st.sampled_from(_CF), min_size=1, max_size=3)))


def _disguise(draw: st.DrawFn, pieces: list[str], classes: set[str], *, spaced: bool) -> str:
    """Write `pieces` (characters or words) with the drawn classes inside and between them.

    `spaced`: a separator is drawn between pieces (compact identifiers); else
    the pieces are words and the separators between them (`_words_between`),
    and only the words' characters are disguised.
    """
    out = []
    for index, piece in enumerate(pieces):
        if index and spaced:
            out.append(_cf(draw, classes) + _separator(draw, classes) + _cf(draw, classes))
        if not spaced and index % 2:  # a separator drawn by `_words_between`: kept as drawn
            out.append(piece)
            continue
        for char in piece:
            out.append(_encoded(draw, char, classes) + _cf(draw, classes))
    text = "".join(out)
    if "compat" in classes:
        for plain, ligature in _LIGATURES.items():
            if plain in text and draw(st.booleans()):
                text = text.replace(plain, ligature, 1)
    if "html" in classes and draw(st.booleans()):
        tag = draw(st.sampled_from(["b", "i", "em", "span", "strong"]))
        text = f"<{tag}>{text}</{tag}>"
    return text


def _words_between(draw: st.DrawFn, words: list[str], classes: set[str]) -> list[str]:
    """Words with a (disguised) separator between them, as pieces of one written value."""
    out: list[str] = []
    for index, word in enumerate(words):
        if index:
            out.append(_separator(draw, classes, required=True))
        out.append(word)
    return out


def _evasive_date(draw: st.DrawFn, born: dt.date, classes: set[str]) -> str:
    """A date of birth, in the forms of the `dates` class when drawn, else the classic ones."""
    if "dates" not in classes:
        return _written_date(draw, born)
    day, month, short = born.day, born.month, f"{born.year % 100:02d}"
    english, french, spanish = _EN[month - 1], _FR.split()[month - 1], _ES.split()[month - 1]
    abbreviated = english[: draw(st.integers(3, len(english)))]
    first = "1er" if day == 1 else str(day)
    return draw(
        st.sampled_from(
            [
                f"{day:02d}{month:02d}{short}",
                f"{abbreviated.title()} {day}, {short}",
                f"{abbreviated.title()}. {day}, {born.year}",
                f"{day:02d}/{month:02d}/'{short}",
                f"{day} {abbreviated} {born.year}",
                f"{day} {abbreviated}. {short}",
                f"{first} {french} {born.year}",
                f"le {first} {french[:4]}. {born.year}",
                f"{day} de {spanish} de {born.year}",
                f"{day} {spanish} {born.year}",
                f"{day}-{spanish[:3]}-{short}",
            ]
        )
    )


@st.composite
def evasive_mentions(
    draw: st.DrawFn, kind: str
) -> tuple[dict[str, Any], str, list[str], frozenset[str]]:
    """A withheld subject written with a random combination of the evasion classes.

    Args:
        draw: hypothesis's draw function.
        kind: the subject type.

    Returns:
        `(subject data, written, secrets, classes)`: `secrets` are `compact`
        forms none of which may remain in any output once it is normalised
        (`normalised_for_leaks`); `classes` are the evasion classes drawn.
    """
    fitting = [name for name in EVASIONS if name != "spelled" or kind == "email"]
    fitting = [name for name in fitting if name != "dates" or kind == "person"]
    classes = set(draw(st.lists(st.sampled_from(fitting), min_size=1, max_size=4, unique=True)))
    subject, plain, secrets = draw(withheld_mentions(kind))
    if kind in {"vehicle", "container", "passport"}:
        written = _disguise(draw, list(compact(plain)), classes, spaced=True)
    elif kind in {"phone", "vessel"}:
        digits = secrets[0]
        prefix = draw(st.sampled_from(["0", "+44 ", "0044 "] if kind == "phone" else ["", "IMO "]))
        written = prefix + _disguise(draw, list(digits), classes, spaced=True)
    elif kind == "email":
        address = subject["value"]
        local, _, domain = address.partition("@")
        out = []
        for index, part in enumerate([*local.split("."), "@", *domain.split(".")]):
            if part == "@":
                at = ["@"] + (["(at)", " at ", "[at]", " AT "] if "spelled" in classes else [])
                out.append(draw(st.sampled_from(at)))
                continue
            previous = [*local.split("."), "@", *domain.split(".")][index - 1] if index else "@"
            if index and previous != "@":
                dot = ["."] + (["[dot]", " dot ", "(dot)", " DOT "] if "spelled" in classes else [])
                dot += ["%2E"] if "percent" in classes else []
                out.append(draw(st.sampled_from(dot)))
            out.append(
                _disguise(draw, [part], classes - {"html"}, spaced=False) + _cf(draw, classes)
            )
        written = "".join(out)
        if "html" in classes and draw(st.booleans()):
            written = f"<b>{written}</b>"
        secrets = [compact(address)]  # spelled ` at ` and ` dot ` are dropped by the check
    elif kind == "person":
        forename = subject["name"].split(", ")[-1].split()[0]
        surname = compact(secrets[0])
        person_words = draw(
            st.sampled_from(
                [[forename, surname.upper()], [surname.title(), forename], [surname.upper()]]
            )
        )
        name = _disguise(draw, _words_between(draw, person_words, classes), classes, spaced=False)
        born = dt.date.fromisoformat(subject["date_of_birth"])
        date = _evasive_date(draw, born, classes)
        secrets = [*secrets, compact(normalised_for_leaks(date.removeprefix("le ")))]
        if draw(st.booleans()):
            date = _disguise(draw, [date], classes, spaced=False)
        written = f"{name} (born {date})"
    else:
        words = subject["value"].split()
        if kind == "organisation" and words[-1] in {"Ltd", "Limited", "PLC"}:
            words = words[:-1]
        written = _disguise(draw, _words_between(draw, words, classes), classes, spaced=False)
    return subject, written, secrets, frozenset(classes)


_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\s*/?>")
_SPELLED = re.compile(r"[\[({<]?\s*\b(?:dot|at)\b\s*[\])}>]?", re.IGNORECASE)


def normalised_for_leaks(text: str) -> str:
    """An output as a leak is searched for in it (issue 10 item 2).

    NFKC, then Unicode format characters removed, HTML tags removed and entities
    unescaped, percent-decoding (twice, for a value encoded twice), combining
    accents removed and the spelled-out ` dot ` and ` at ` of an e-mail dropped.

    Args:
        text: any output a reader gets.

    Returns:
        The text a `compact` secret must not be found in.
    """
    for _ in range(2):
        text = unicodedata.normalize("NFKC", text)
        text = "".join(char for char in text if unicodedata.category(char) != "Cf")
        text = urllib.parse.unquote(html.unescape(_TAG.sub(" ", text)))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return _SPELLED.sub("", text)
