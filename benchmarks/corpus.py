"""A generated corpus: items with varied labels, portions and subjects, and readers.

Everything is plain JSON-ready data drawn from one seeded `random.Random`, so a
run is repeatable. The shapes follow DESIGN §2 and the mix is chosen so that
every view, every cap of the default profile and markings on portions and
subjects all occur.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

ORGANISATIONS = ["border-force", "nca", "hmrc", "police-scotland", "nl-customs"]
UNITS = ["FIC Hull", "FIC Dover", "NIH", "RCU North", "Ops Room"]
LEVELS = ["BPSS", "CTC", "SC", "eSC", "DV", "eDV"]
CLASSIFICATIONS = ["OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET", "TOP SECRET"]
CLASS_FLOOR = {"OFFICIAL": 0, "OFFICIAL-SENSITIVE": 0, "SECRET": 2, "TOP SECRET": 4}
EMPLOYMENT = ["crown-servant", "crown-servant", "crown-servant", "agency", "contractor"]
EMPLOYMENT += ["secondee", "partner"]
GROUPS = ["OP-KESTREL", "OP-HERON", "OP-WREN", "OP-SWIFT"]
NATIONALITIES = ["GBR", "GBR", "GBR", "NLD", "USA"]
CATEGORIES = ["tearline", "narrative", "assessment", "source", "method"]
VALUE_TYPES = ["vehicle", "container", "vessel", "phone", "email", "organisation", "other"]
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
"""The moment every benchmark decision is taken at."""

_WORDS = [
    "container",
    "vehicle",
    "vessel",
    "consignor",
    "haulier",
    "route",
    "arrival",
    "departure",
    "tractor",
    "trailer",
    "cash",
    "tobacco",
    "drugs",
    "firearms",
    "examine",
    "refer",
    "report",
    "intercept",
    "search",
    "seal",
    "port",
    "berth",
]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def _time(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _handling(rng: random.Random, *, marking: bool = False) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    chance = 0.25 if marking else 1.0
    if rng.random() < 0.45 * chance:
        orgs = rng.sample(ORGANISATIONS, rng.randint(1, 3))
        rules.append({"kind": "releasable_to", "organisations": orgs})
    if rng.random() < 0.12 * chance:
        rules.append({"kind": "no_agency_staff"})
    if rng.random() < 0.12 * chance:
        rules.append({"kind": "need_to_know", "groups": rng.sample(GROUPS, rng.randint(1, 2))})
    if rng.random() < 0.08 * chance:
        rules.append({"kind": "originator_consent"})
    if rng.random() < 0.06 * chance:
        until = NOW + dt.timedelta(days=rng.choice([-30, -1, 1, 30]))
        rules.append({"kind": "embargo", "until": _time(until)})
    if rng.random() < 0.10 * chance:
        categories = rng.sample(["narrative", "assessment", "source"], rng.randint(1, 2))
        rules.append({"kind": "sanitise", "categories": categories})
    if rng.random() < 0.02 * chance:
        rules.append({"kind": "recipients_only", "principals": [f"reader-{rng.randrange(50):03d}"]})
    if rng.random() < 0.05 * chance:
        rules.append({"kind": "eyes_only", "nationalities": ["GBR"]})
    if not marking and rng.random() < 0.15:
        rules.append({"kind": "not_for_evidence"})
    if not marking and rng.random() < 0.08:
        rules.append({"kind": "descriptor", "name": rng.choice(["personal data", "lpp"])})
    return rules


def _marking(rng: random.Random, chance: float) -> dict[str, Any] | None:
    if rng.random() >= chance:
        return None
    marking: dict[str, Any] = {}
    if rng.random() < 0.8:
        marking["min_vetting"] = rng.choice(LEVELS[1:])
    handling = _handling(rng, marking=True)
    if handling or not marking:
        marking["handling"] = handling or [{"kind": "no_agency_staff"}]
    return marking


def _container(rng: random.Random) -> str:
    """An ISO 6346 container number with a correct check digit."""
    values = {}
    number = 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if number % 11 == 0:
            number += 1
        values[letter] = number
        number += 1
    code = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3)) + "U"
    serial = f"{rng.randrange(10**6):06d}"
    total = sum(
        (values.get(char) or int(char)) * 2**position for position, char in enumerate(code + serial)
    )
    return f"{code}{serial}{total % 11 % 10}"


def _imo(rng: random.Random) -> str:
    """An IMO ship number with a correct check digit."""
    digits = [rng.randint(1 if position == 0 else 0, 9) for position in range(6)]
    check = sum(digit * weight for digit, weight in zip(digits, range(7, 1, -1), strict=True)) % 10
    return "IMO" + "".join(map(str, digits)) + str(check)


def _value(rng: random.Random, kind: str) -> str:
    if kind == "container":
        return _container(rng)
    if kind == "vessel":
        return _imo(rng)
    if kind == "phone":
        return f"+44 7700 9{rng.randrange(10**5):05d}"
    if kind == "email":
        return f"user{rng.randrange(10**5)}@example.com"
    if kind == "vehicle":
        letters = rng.choice("CDEFGH") + rng.choice("JKLMN") + rng.choice("PRSTU")
        return f"AB{rng.randrange(100):02d} {letters}"
    return f"V{rng.randrange(10**7):07d}"


def _subject(rng: random.Random, index: int) -> dict[str, Any]:
    kind = rng.random()
    subject: dict[str, Any]
    if kind < 0.15:
        subject = {"type": "person", "name": f"Person {rng.choice(_WORDS)} {rng.randrange(10_000)}"}
        # the registry needs the date of birth to identify a person
        subject["date_of_birth"] = (
            f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        )
    elif kind < 0.22:
        subject = {
            "type": "passport",
            "country": rng.choice(NATIONALITIES),
            "value": f"P{rng.randrange(10**8):08d}",
        }
    else:
        kind_name = rng.choice(VALUE_TYPES)
        subject = {"type": kind_name, "value": _value(rng, kind_name)}
    if rng.random() < 0.5:
        subject["id"] = f"s{index + 1}"
    marking = _marking(rng, 0.15)
    if marking is not None:
        subject["marking"] = marking
    return subject


def item(rng: random.Random, number: int) -> dict[str, Any]:
    """One item as plain data (the contract of DESIGN §2)."""
    classification = rng.choices(CLASSIFICATIONS, weights=[3, 4, 2, 1])[0]
    floor = CLASS_FLOOR[classification]
    originator = rng.choice(ORGANISATIONS[:4])
    unit = rng.choice(UNITS)
    data: dict[str, Any] = {
        "id": f"BEN-{number:07d}",
        "title": _sentence(rng, 6),
        "created": _time(NOW - dt.timedelta(minutes=rng.randrange(500_000))),
        "classification": classification,
    }
    if rng.random() < 0.6:
        data["required_vetting"] = LEVELS[rng.randint(floor, min(floor + 2, 5))]
    data["originator"] = {"organisation": originator, "unit": unit}
    data["owner"] = {
        "organisation": originator,
        "unit": unit,
        "contact": f"{unit.lower().replace(' ', '.')}@example.gov.uk",
    }
    handling = _handling(rng)
    if handling:
        data["handling"] = handling
    if rng.random() < 0.8:
        code = rng.choice("PC")
        grading: dict[str, Any] = {
            "source": rng.choice("123"),
            "intelligence": rng.choice("ABCDE"),
            "handling_code": code,
        }
        if code == "C":
            grading["conditions"] = "Not for evidential use without the owner's agreement"
        data["grading"] = grading
    if rng.random() < 0.15:
        data["consents"] = rng.sample(ORGANISATIONS, rng.randint(1, 2))
    data["subjects"] = [_subject(rng, index) for index in range(rng.randint(0, 4))]
    portions = []
    count = rng.randint(1, 5)
    for index in range(count):
        category = "tearline" if index == 0 and rng.random() < 0.85 else rng.choice(CATEGORIES)
        portion: dict[str, Any] = {
            "id": f"p{index + 1}",
            "category": category,
            "text": _sentence(rng, rng.randint(8, 30)),
        }
        marking = _marking(rng, 0.2)
        if marking is not None:
            portion["marking"] = marking
        portions.append(portion)
    data["portions"] = portions
    return data


def reader(rng: random.Random, number: int) -> dict[str, Any]:
    """One reader (principal) as plain data."""
    data: dict[str, Any] = {
        "id": f"reader-{number:03d}",
        "organisation": rng.choice(ORGANISATIONS),
        "employment": rng.choice(EMPLOYMENT),
        "nationality": rng.choice(NATIONALITIES),
        "roles": ["officer"],
        "groups": rng.sample(GROUPS, rng.randint(0, 2)),
    }
    if rng.random() < 0.92:
        vetting: dict[str, Any] = {"level": rng.choice(LEVELS)}
        if rng.random() < 0.5:
            vetting["expires"] = (
                NOW.date() + dt.timedelta(days=rng.choice([-10, 60, 400]))
            ).isoformat()
        data["vetting"] = vetting
    return data


def generate(
    items: int, readers: int, seed: int = 20261127
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`items` items and `readers` readers as plain data, the same for the same seed.

    Args:
        items: how many items.
        readers: how many readers.
        seed: the seed of the random generator.

    Returns:
        (items, readers).
    """
    rng = random.Random(seed)
    return [item(rng, n) for n in range(items)], [reader(rng, n) for n in range(readers)]
