"""The cost of masking free text (issue 7), per rendered item.

    .venv/bin/python benchmarks/masking_bench.py            # 2,000 items, 7 repeats
    .venv/bin/python benchmarks/masking_bench.py --quick    # a smoke run

One generated corpus (seeded): items of 4 portions (about 1 KB of prose), 4
subjects of mixed types, and prose that mentions every subject in one of the
ways people write it. Each scenario decides and renders every item for one
reader; the rows give the median (over repeats) of the mean µs of CPU time
per item:

- `nothing withheld`: a DV reader passes every subject, so no text is
  searched (the hot path: two substring searches per shown text);
- `withheld, mentioned`: the subjects need DV, the SC reader gets `full`
  with every mention masked (decide finds them, render applies the edits);
- `withheld, not mentioned`: as above, but the prose never names a subject:
  the search costs the same, nothing is masked;
- `inline spans`: no subject withheld, two spans per item, one masked.

Columns: `decide` (which plans the masks), `render` (JSON document, applies
them), `render_text`, and `plan_masks` alone (the masking work in decide).

Scaling (issue 14, row (e)): one item with n portions and n subjects, half of
them withheld, every portion mentioning two subjects (one shown, one
withheld), for n = 10, 100 and 1,000. `first decision` decides a fresh,
already parsed copy of the item (nothing kept from an earlier decision);
`render` and `render_text` render that decision; milliseconds of CPU time
(`time.process_time`: the machine is shared, wall time measures the
neighbours), median of the repeats. Masking linear in the text means the
n = 1,000 row costs about ten times the n = 100 one.

Evasion (issue 10 item 2, `--evasion`): for every subject type, 400 drawings
of `tests.strategies.evasive_mentions` (a withheld value written with random
combinations of the evasion classes, in random prose); per class, how many
forms were tried and how many were masked (no canonical form of the value
left in the JSON or text output once normalised).

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
        start = time.process_time()
        run()
        samples.append((time.process_time() - start) / count * 1e6)
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


def _scaled_subject(index: int) -> tuple[dict[str, Any], str]:
    """A subject unique to `index` and one way it is written in prose."""
    kind = index % 6
    letters = "ABCDEFGHJKLMNPRSTVWXYZ"
    tag = letters[index % 22] + letters[index // 22 % 22] + letters[index // 484 % 22]
    if kind == 0:
        plate = f"{tag[:2]}{10 + index % 90}{tag}"
        return {"type": "vehicle", "value": plate}, f"{plate[:4]} {plate[4:]}"
    if kind == 1:
        number = f"7700 9{index:05d}"
        return {"type": "phone", "value": f"+44 {number}"}, f"0{number}"
    if kind == 2:
        born = dt.date(1950, 1, 1) + dt.timedelta(days=index * 7)
        name = f"Qz{tag.lower()}"
        subject = {
            "type": "person",
            "name": f"John {name.upper()}",
            "date_of_birth": born.isoformat(),
        }
        return subject, f"John {name} (born {born.strftime('%d/%m/%Y')})"
    if kind == 3:
        number = f"{index:09d}"
        return {"type": "passport", "country": "GBR", "value": number}, number
    if kind == 4:
        address = f"agent.{tag.lower()}{index}@example.com"
        return {"type": "email", "value": address}, address
    words = f"Qz{tag.lower()} Freight"
    return {"type": "organisation", "value": f"{words} Ltd"}, words


def _scaled_item(n: int) -> dict[str, Any]:
    """n portions and n subjects, the odd ones withheld; each portion names two subjects."""
    rng = random.Random(n)
    subjects = []
    written = []
    for index in range(n):
        subject, form = _scaled_subject(index)
        if index % 2:
            subject = {**subject, "marking": {"min_vetting": "DV"}}
        subjects.append(subject)
        written.append(form)
    portions = []
    for index in range(n):
        shown, hidden = written[2 * index % n], written[(2 * index + 1) % n]
        text = f"{_sentence(rng, 10)} Linked to {shown} and to {hidden}. {_sentence(rng, 8)}"
        portions.append({"id": f"p{index + 1}", "category": "narrative", "text": text})
    return {
        "id": f"SCALE-{n}",
        "title": f"Report of {n}",
        "created": "2026-11-20T09:14:00Z",
        "classification": "OFFICIAL-SENSITIVE",
        "required_vetting": "SC",
        "originator": {"organisation": "border-force", "unit": "FIC Hull"},
        "owner": {"organisation": "border-force", "unit": "FIC Hull", "contact": "fic@example.org"},
        "grading": {"source": "2", "intelligence": "B", "handling_code": "P"},
        "subjects": subjects,
        "portions": portions,
    }


def _scaling(sizes: tuple[int, ...], repeats: int) -> dict[str, dict[str, float]]:
    """First decision and render of one item with n portions and subjects, half withheld."""
    policy = default_policy()
    reader = _reader("SC")
    rows: dict[str, dict[str, float]] = {}
    for n in sizes:
        data = _scaled_item(n)
        copies = [parse_item(data) for _ in range(repeats + 1)]
        decision = decide(reader, copies.pop(), now=NOW, policy=policy)  # warm the subjects' forms
        gc.collect()
        gc.freeze()  # the copies are long-lived: keep the collector off them in the timings
        first, rendered, text = [], [], []
        for item in copies:
            start = time.process_time()
            decision = decide(reader, item, now=NOW, policy=policy)
            first.append(time.process_time() - start)
            start = time.process_time()
            render(item, decision)
            rendered.append(time.process_time() - start)
            start = time.process_time()
            render_text(item, decision)
            text.append(time.process_time() - start)
        gc.unfreeze()
        masked = sum(1 for mask in decision.masks if mask.subject_types)
        rows[f"n={n}"] = {
            "first decision (ms)": statistics.median(first) * 1e3,
            "render (ms)": statistics.median(rendered) * 1e3,
            "render_text (ms)": statistics.median(text) * 1e3,
            "texts masked": float(masked),
        }
    return rows


def _evasion(per_type: int) -> dict[str, dict[str, int]]:
    """Per evasion class: forms tried, and forms with nothing of the value left in any output."""
    # Hypothesis and the tests' strategies are test dependencies: imported
    # only for this mode, so the timing modes run without them.
    from hypothesis import HealthCheck, given, settings  # noqa: PLC0415
    from hypothesis import strategies as st  # noqa: PLC0415

    from tests.strategies import (  # noqa: PLC0415
        EVASIONS,
        compact,
        evasive_mentions,
        normalised_for_leaks,
        unrelated_text,
    )
    from tests.test_masking_evasion import READER, TYPES, _item, _outputs  # noqa: PLC0415

    counts = {name: {"tried": 0, "masked": 0} for name in (*EVASIONS, "all")}

    @settings(
        max_examples=per_type,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data(), kind=st.sampled_from(TYPES))
    def tally(data: st.DataObject, kind: str) -> None:
        subject, written, secrets, classes = data.draw(evasive_mentions(kind))
        item = _item(subject, f"{data.draw(unrelated_text)} {written} {data.draw(unrelated_text)}")
        decision = decide(READER, item, now=NOW)
        seen = [compact(normalised_for_leaks(text)) for text in _outputs(item, decision)]
        masked = not any(secret in text for secret in secrets for text in seen)
        for name in (*classes, "all"):
            counts[name]["tried"] += 1
            counts[name]["masked"] += masked

    tally()
    return counts


def main() -> None:
    """Run the scenarios, print the table, write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 items, 3 repeats")
    parser.add_argument("--out", type=Path, default=None, help="the JSON results file")
    parser.add_argument(
        "--scaling", action="store_true", help="only the n = 10, 100, 1,000 scaling rows"
    )
    parser.add_argument(
        "--evasion", action="store_true", help="only the evasion counts (forms tried and masked)"
    )
    args = parser.parse_args()
    if args.evasion:
        counts = _evasion(200 if args.quick else 3_600)
        print("masking evasion: forms tried and masked, per class")
        for name, figures in counts.items():
            print(f"{name:<10}{figures['tried']:>7} tried{figures['masked']:>7} masked")
        _write(args.out, 0, 0, {}, {}, evasion=counts)
        return
    count, repeats = (200, 3) if args.quick else (2_000, 7)

    scaling = _scaling((10, 100, 1_000), 3 if args.quick else 7)
    print("masking scaling: one item, n portions and n subjects, half withheld (median ms)")
    for name, figures in scaling.items():
        cells = "  ".join(f"{key} {value:8.2f}" for key, value in figures.items())
        print(f"{name:<8}{cells}")
    rows: dict[str, dict[str, float]] = {}
    if args.scaling:
        _write(args.out, count, repeats, rows, scaling)
        return

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
    _write(args.out, count, repeats, rows, scaling)


def _write(
    out: Path | None,
    count: int,
    repeats: int,
    rows: dict[str, dict[str, float]],
    scaling: dict[str, dict[str, float]],
    *,
    evasion: dict[str, dict[str, int]] | None = None,
) -> None:
    out = out or ROOT / "benchmarks" / "results" / (
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
        "scaling": scaling,
        "evasion": evasion or {},
    }
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
