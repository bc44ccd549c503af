"""The cost of masking free text (issue 7), per rendered item.

    .venv/bin/python benchmarks/masking_bench.py            # 2,000 items, 7 repeats
    .venv/bin/python benchmarks/masking_bench.py --quick    # a smoke run

One generated corpus (seeded): items of 4 portions (about 1 KB of prose), 4
subjects of mixed types, and prose that mentions every subject in one of the
ways people write it. Each scenario decides and renders every item for one
reader; the rows give the median (over repeats) of the mean µs per item:

- `nothing withheld`: a DV reader passes every subject, so no text is
  searched (the hot path: two substring searches per shown text);
- `withheld, mentioned`: the subjects need DV, the SC reader gets `full`
  with every mention masked (decide finds them, render applies the edits);
- `withheld, not mentioned`: as above, but the prose never names a subject:
  the search costs the same, nothing is masked;
- `inline spans`: no subject withheld, two spans per item, one masked.

Columns: `decide` (which plans the masks), `render` (JSON document, applies
them), `render_text`, and `plan_masks` alone (the masking work in decide).
Results are printed and written as JSON to `benchmarks/results/`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dissemination import (  # noqa: E402
    Decision,
    Item,
    Principal,
    decide,
    default_policy,
    parse_item,
    parse_principal,
    render,
    render_text,
)
from dissemination.facts import reader_rank  # noqa: E402
from dissemination.masking import plan_masks  # noqa: E402

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
_PROSE = """
container vehicle vessel consignor haulier route arrival departure tractor trailer cash tobacco
examine refer report intercept search seal port berth driver crossing booking the a of and was
seen at on with by for in to
"""
_WORDS = _PROSE.split()
_FORENAMES = ["John", "Mary", "Ahmed", "Jan", "Chloe", "Piotr", "Aisha", "Liam"]
_SURNAMES = ["SMITH", "NOWAK", "KHAN", "DE VRIES", "O'BRIEN", "JONES", "MÜLLER", "PATEL"]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def _subjects(rng: random.Random) -> list[tuple[dict[str, Any], list[str]]]:
    """Four subjects, each with the ways it is written in the prose."""
    plate = f"{rng.choice('ABCDEFGHJK')}{rng.choice('LMNOPRSTVW')}{rng.randint(10, 99)}"
    plate += "".join(rng.choice("ABCDEFGHJKLMNPRSTVWXYZ") for _ in range(3))
    phone = f"7700 900{rng.randint(100, 999)}"
    forename, surname = rng.choice(_FORENAMES), rng.choice(_SURNAMES)
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 20_000))
    number = "".join(rng.choice("0123456789") for _ in range(9))
    pool = [
        ({"type": "vehicle", "value": plate}, [plate, plate.lower(), f"{plate[:4]} {plate[4:]}"]),
        ({"type": "phone", "value": f"+44 {phone}"}, [f"0{phone}", f"+44 {phone}", f"+44{phone}"]),
        (
            {"type": "person", "name": f"{forename} {surname}", "date_of_birth": born.isoformat()},
            [
                f"{forename} {surname}",
                f"{surname.title()}, {forename}",
                born.strftime("%d/%m/%Y"),
                born.strftime("%d %B %Y"),
            ],
        ),
        ({"type": "passport", "country": "GBR", "value": number}, [number]),
        (
            {"type": "email", "value": f"{forename.lower()}.x{number[:3]}@example.com"},
            [f"{forename.lower()}.x{number[:3]}@example.com"],
        ),
        (
            {"type": "organisation", "value": f"{rng.choice(_WORDS).title()} Freight Ltd"},
            [],
        ),
    ]
    rng.shuffle(pool)
    chosen = pool[:4]
    for subject, forms in chosen:
        if not forms:
            forms.append(subject["value"].removesuffix(" Ltd"))
    return chosen


def _item(rng: random.Random, number: int, *, mention: bool, spans: bool) -> dict[str, Any]:
    subjects = _subjects(rng)
    portions = []
    categories = ["tearline", "narrative", "assessment", "narrative"]
    for index, category in enumerate(categories):
        sentences = [_sentence(rng, rng.randint(8, 16)) for _ in range(4)]
        if mention:
            subject_forms = rng.choice(subjects)[1]
            sentences.insert(2, f"Linked to {rng.choice(subject_forms)} this week.")
        if spans and index in {1, 2}:
            level = "SC" if index == 1 else "DV"
            sentences.insert(1, f"[[{level}: {_sentence(rng, 6)}]]")
        portions.append({"id": f"p{index + 1}", "category": category, "text": " ".join(sentences)})
    return {
        "id": f"BEN-{number:05d}",
        "title": f"Report {number}: {_sentence(rng, 5)}",
        "created": "2026-11-20T09:14:00Z",
        "classification": "OFFICIAL-SENSITIVE",
        "required_vetting": "SC",
        "originator": {"organisation": "border-force", "unit": "FIC Hull"},
        "owner": {"organisation": "border-force", "unit": "FIC Hull", "contact": "fic@example.org"},
        "grading": {"source": "2", "intelligence": "B", "handling_code": "P"},
        "subjects": [
            {**subject, "marking": {"min_vetting": "DV"}} if not spans else subject
            for subject, _ in subjects
        ],
        "portions": portions,
    }


def _reader(level: str) -> Principal:
    return parse_principal(
        {
            "id": f"reader-{level.lower()}",
            "organisation": "border-force",
            "employment": "crown-servant",
            "nationality": "GBR",
            "vetting": {"level": level},
        }
    )


def _median_us(run: Callable[[], object], count: int, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) / count * 1e6)
    return statistics.median(samples)


def _scenario(
    items: list[Item], reader: Principal, repeats: int
) -> tuple[dict[str, float], list[Decision]]:
    policy = default_policy()
    decisions = [decide(reader, item, now=NOW, policy=policy) for item in items]
    pairs = list(zip(items, decisions, strict=True))
    rank = reader_rank(reader, policy.vocabulary, NOW.date())
    count = len(items)

    # `decide` keeps what it worked out for an item object (the fast path's
    # plan); each repeat decides fresh copies so the masking is done again.
    fresh = [[item.model_copy() for item in items] for _ in range(repeats)]
    gc.collect()
    gc.freeze()  # the copies are long-lived: keep the collector from walking them in the timings

    def decide_all() -> None:
        for item in fresh.pop():
            decide(reader, item, now=NOW, policy=policy)

    def render_all() -> None:
        for item, decision in pairs:
            render(item, decision)

    def text_all() -> None:
        for item, decision in pairs:
            render_text(item, decision)

    def plan_all() -> None:
        for item, decision in pairs:
            plan_masks(
                item,
                view=decision.view,
                portions=decision.portions,
                subjects=decision.subjects,
                conditions=bool(decision.conditions),
                rank=rank,
                vocabulary=policy.vocabulary,
            )

    row = {
        "decide": _median_us(decide_all, count, repeats),
        "render": _median_us(render_all, count, repeats),
        "render_text": _median_us(text_all, count, repeats),
        "plan_masks": _median_us(plan_all, count, repeats),
    }
    row["decide+render"] = row["decide"] + row["render"]
    gc.unfreeze()
    return row, decisions


def main() -> None:
    """Run the scenarios, print the table, write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 items, 3 repeats")
    parser.add_argument("--out", type=Path, default=None, help="the JSON results file")
    args = parser.parse_args()
    count, repeats = (200, 3) if args.quick else (2_000, 7)

    rng = random.Random(7)
    corpora = {
        "nothing withheld": (
            [_item(rng, n, mention=True, spans=False) for n in range(count)],
            "DV",
        ),
        "withheld, mentioned": (
            [_item(rng, n, mention=True, spans=False) for n in range(count)],
            "SC",
        ),
        "withheld, not mentioned": (
            [_item(rng, n, mention=False, spans=False) for n in range(count)],
            "SC",
        ),
        "inline spans": ([_item(rng, n, mention=False, spans=True) for n in range(count)], "SC"),
    }
    rows: dict[str, dict[str, float]] = {}
    for name, (data, level) in corpora.items():
        items = [parse_item(entry) for entry in data]
        row, decisions = _scenario(items, _reader(level), repeats)
        masked = sum(1 for decision in decisions if decision.masks)
        row["items masked (%)"] = 100.0 * masked / len(decisions)
        rows[name] = row

    columns = ["decide", "render", "render_text", "plan_masks", "decide+render"]
    print(f"masking: median µs per item over {repeats} repeats, {count} items per scenario")
    print(f"{'scenario':<26}" + "".join(f"{column:>15}" for column in columns) + "   masked")
    for name, row in rows.items():
        cells = "".join(f"{row[column]:>15.1f}" for column in columns)
        print(f"{name:<26}{cells}   {row['items masked (%)']:>5.0f}%")
    base = rows["nothing withheld"]["decide+render"]
    for name in ("withheld, mentioned", "withheld, not mentioned", "inline spans"):
        extra = rows[name]["decide+render"] - base
        print(f"masking cost ({name}): {extra:+.1f} µs per item (decide + render)")

    out = args.out or ROOT / "benchmarks" / "results" / (
        f"masking-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "masking",
        "when": dt.datetime.now(dt.UTC).isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "items": count,
        "repeats": repeats,
        "unit": "µs per item (median of repeats)",
        "rows": rows,
    }
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
