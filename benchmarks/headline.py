"""The headline rows (issue 14): what users meet, not what the caches answer.

Every row is µs per operation, the median of its repeats, and is divided by
the hand-written simple rule timed in the same run (`peers.simple_rule`):

- (a) the first decision on an item never seen before, already parsed: every
  operation decides a new item object with new content (id, title, texts), so
  no plan, content or decision kept for an earlier item can answer; on the
  simple rule, on the Humber example items, and on the generated corpus; and
  the first decision on a set of facts the policy has not met (a policy loaded
  afresh, each pair a different set of facts);
- (b) a service request: the reader's and the item's JSON text parsed and
  validated, decided, rendered and dumped to JSON, each request new content;
- (c) `filter` over 100,000 distinct JSON Lines items, one cold pass, in a
  fresh interpreter (and its peak memory);
- (d) many readers by many items in a fresh interpreter: every pair decided once;
- (e) masking at n portions and n subjects, half withheld: first decision and render;
- (f) the peer engines on the simple rule (`benchmarks/peers.py`);
- (g) hot rows, labelled as cache hits: the same pairs decided and rendered again.
"""

from __future__ import annotations

import copy
import gc
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks import corpus, masking_bench, peers
from benchmarks.api import filter_items
from benchmarks.timing import RUN, child, each_us, median_us
from dissemination import (
    DEFAULT_POLICY_DIR,
    Item,
    Principal,
    View,
    decide,
    default_policy,
    iter_items,
    load_policy,
    parse_item,
    parse_principal,
    render,
)
from dissemination.loading import parse_document

ROOT = Path(__file__).resolve().parent.parent
HUMBER = ROOT / "examples" / "humber"
NOW = corpus.NOW

FULL = {
    "hand_ops": 200_000,
    "peer_requests": 2_000,
    "first_ops": 2_000,
    "fact_sets": 400,
    "service_ops": 2_000,
    "filter_lines": 100_000,
    "memory_lines": 1_000_000,
    "fresh": [[1_000, 100], [200, 100]],
    "masking": [10, 100, 1_000],
    "hot_pairs": 20_000,
    "repeats": 5,
}
QUICK = {
    "hand_ops": 20_000,
    "peer_requests": 200,
    "first_ops": 200,
    "fact_sets": 60,
    "service_ops": 200,
    "filter_lines": 2_000,
    "memory_lines": 0,
    "fresh": [[50, 20]],
    "masking": [10, 100],
    "hot_pairs": 2_000,
    "repeats": 3,
}

Row = Callable[..., None]


def _humber() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The example items and readers as plain data."""

    def read(folder: str) -> list[dict[str, Any]]:
        return [
            parse_document(path.read_text(encoding="utf-8"), source=str(path))
            for path in sorted((HUMBER / folder).glob("*.yaml"))
        ]

    return read("items"), read("readers")


def _renamed_item(data: dict[str, Any], tag: str) -> dict[str, Any]:
    """A copy of an item with a new id and new text everywhere (new content)."""
    fresh = copy.deepcopy(data)
    fresh["id"] = f"{data['id']}-{tag}"
    fresh["title"] = f"{data['title']} ({tag})"
    for portion in fresh["portions"]:
        portion["text"] = f"{portion['text']} Ref {tag}."
    return fresh


def _renamed_reader(data: dict[str, Any], tag: str) -> dict[str, Any]:
    fresh = copy.deepcopy(data)
    fresh["id"] = f"{data['id']}-{tag}"
    return fresh


def _json_safe(data: dict[str, Any]) -> str:
    """JSON text of a document read from YAML (dates become ISO strings)."""
    return json.dumps(data, default=lambda value: value.isoformat())


_YARDSTICK_FACTS = [peers.Facts(request) for request in peers.requests(1_000, seed=15)]


def yardstick() -> float:
    """The simple rule by hand, timed now (the least of 5 x 10,000 decisions): µs per decision.

    Timed again after every row, so each row's ratio is to the yardstick under
    the same load (the machine is shared; its speed drifts during a run).
    """
    rule = peers.simple_rule
    facts = _YARDSTICK_FACTS

    def run() -> None:
        for _ in range(10):
            for one in facts:
                rule(one)

    return min(median_us(run, 10 * len(facts), 5)[1])  # the least: a burst elsewhere inflates


def hand_rule(sizes: dict[str, Any], row: Row) -> list[peers.Request]:
    """The yardstick: the simple rule by hand. Returns the generated requests."""
    made = peers.requests(sizes["peer_requests"])
    facts = [peers.Facts(request) for request in made]
    rule = peers.simple_rule
    rounds = max(1, sizes["hand_ops"] // len(facts))

    def run() -> None:
        for _ in range(rounds):
            for one in facts:
                rule(one)

    assert [rule(one) for one in facts] == [peers.reference(r) for r in made]  # noqa: S101
    row(
        "simple_by_hand",
        "simple rule by hand (the yardstick, x1)",
        *median_us(run, rounds * len(facts), sizes["repeats"]),
        group="yardstick",
    )
    return made


def peer_rows(made: list[peers.Request], sizes: dict[str, Any], row: Row, note: Row) -> None:
    """(f) each peer engine on the simple rule, checked against the reference."""
    for peer in peers.peers():
        result = peers.time_peer(peer, made, sizes["repeats"])
        if "unavailable" in result:
            note(f"(f) {peer.label}: unavailable here, {result['unavailable']}")
            row(
                peer.key,
                f"(f) {peer.label}",
                None,
                group="peers",
                unavailable=result["unavailable"],
            )
            continue
        if result["disagreements"]:
            note(f"(f) {peer.label} disagrees with the reference on {result['disagreements']}")
        row(
            peer.key,
            f"(f) {peer.label}",
            result["us_per_op"],
            result["samples"],
            group="peers",
            checked=result["checked"],
            disagreements=result["disagreements"],
        )


def first_simple(made: list[peers.Request], sizes: dict[str, Any], row: Row, note: Row) -> None:
    """(a) dissemination on the simple rule: the first decision on each unseen item."""
    policy = default_policy()
    readers: dict[tuple[int, str], Principal] = {}
    for request in made:
        key = (request.rank, request.org)
        if key not in readers:
            readers[key] = parse_principal(peers.reader_document(request))
    ops = min(len(made), sizes["first_ops"])
    runs = []
    disagree = 0
    for repeat in range(sizes["repeats"]):
        batch = [
            (readers[r.rank, r.org], parse_item(peers.item_document(r, f"a{repeat}")), r)
            for r in made[:ops]
        ]
        if repeat == 0:  # checked on copies of their own, so the timed items stay unseen
            for reader, _, request in batch:
                item = parse_item(peers.item_document(request, "check"))
                allowed = decide(reader, item, now=NOW, policy=policy).view is View.FULL
                disagree += allowed != peers.reference(request)

        def run(batch: list[tuple[Principal, Item, peers.Request]] = batch) -> None:
            for reader, item, _ in batch:
                decide(reader, item, now=NOW, policy=policy)

        runs.append(run)
    if disagree:
        note(f"WARNING: dissemination disagrees with the simple rule on {disagree} requests")
    row(
        "a_first_simple",
        "(a) first decision, unseen parsed item, simple rule",
        *each_us(runs, ops),
        group="headline",
        checked=ops,
        disagreements=disagree,
    )


def _cycle(items: list[dict[str, Any]], readers: list[Principal], ops: int, tag: str) -> Any:
    return [
        (readers[number % len(readers)], parse_item(_renamed_item(items[number % len(items)], tag)))
        for number in range(ops)
    ]


def first_humber(sizes: dict[str, Any], row: Row) -> None:
    """(a) the first decision on each unseen Humber example item (and a generated corpus)."""
    policy = default_policy()
    item_data, reader_data = _humber()
    readers = [parse_principal(data) for data in reader_data]
    # One item by every reader in turn, each item a new object with new content.
    ops = sizes["first_ops"]
    runs = []
    for repeat in range(sizes["repeats"]):
        pairs = [
            (
                readers[n % len(readers)],
                parse_item(_renamed_item(item_data[n % 7], f"{repeat}-{n}")),
            )
            for n in range(ops)
        ]

        def run(pairs: list[tuple[Principal, Item]] = pairs) -> None:
            for reader, item in pairs:
                decide(reader, item, now=NOW, policy=policy)

        runs.append(run)
    row(
        "a_first_humber",
        "(a) first decision, unseen parsed item, Humber examples",
        *each_us(runs, ops),
        group="headline",
    )

    # The same content parsed again (a service asked for an item it decided before): a new
    # object equal to one already decided, by the same reader. Shared work shows here.
    runs = []
    kept: list[Any] = []
    for repeat in range(sizes["repeats"]):
        tags = [f"{repeat}-{n}" for n in range(ops)]
        seen = [
            (readers[n % len(readers)], parse_item(_renamed_item(item_data[n % 7], tag)))
            for n, tag in enumerate(tags)
        ]
        for reader, item in seen:
            decide(reader, item, now=NOW, policy=policy)
        again = [
            (reader, parse_item(_renamed_item(item_data[n % 7], tag)))
            for n, ((reader, _), tag) in enumerate(zip(seen, tags, strict=True))
        ]

        kept.append(seen)  # the first objects still exist while the equal ones are decided

        def run_again(again: list[tuple[Principal, Item]] = again) -> None:
            for reader, item in again:
                decide(reader, item, now=NOW, policy=policy)

        runs.append(run_again)
    row(
        "a_equal_humber",
        "(a) decision on an equal item parsed again (same content, new object)",
        *each_us(runs, ops),
        group="headline",
    )

    corpus_items, corpus_readers = corpus.generate(ops, 50)
    readers = [parse_principal(data) for data in corpus_readers]
    runs = []
    for repeat in range(sizes["repeats"]):
        pairs = [
            (
                readers[n % len(readers)],
                parse_item(_renamed_item(corpus_items[n], f"c{repeat}")),
            )
            for n in range(ops)
        ]

        def run_corpus(pairs: list[tuple[Principal, Item]] = pairs) -> None:
            for reader, item in pairs:
                decide(reader, item, now=NOW, policy=policy)

        runs.append(run_corpus)
    row(
        "a_first_corpus",
        "(a) first decision, unseen parsed item, generated corpus",
        *each_us(runs, ops),
        group="headline",
    )


def new_fact_sets(sizes: dict[str, Any], row: Row) -> None:
    """(a) the first decision on a set of facts the policy has not met (a fresh policy)."""
    item_data, reader_data = corpus.generate(4_000, 200, seed=99)
    readers = [parse_principal(data) for data in reader_data]
    scout = load_policy(DEFAULT_POLICY_DIR)
    seen: set[frozenset[str]] = set()
    chosen: list[tuple[Principal, dict[str, Any]]] = []
    rng = random.Random(3)
    for data in item_data:
        reader = rng.choice(readers)
        facts = decide(reader, parse_item(data), now=NOW, policy=scout).facts
        if facts not in seen:
            seen.add(facts)
            chosen.append((reader, data))
            if len(chosen) == sizes["fact_sets"]:
                break
    runs = []
    for repeat in range(sizes["repeats"]):
        policy = load_policy(DEFAULT_POLICY_DIR)
        pairs = [(reader, parse_item(_renamed_item(data, f"f{repeat}"))) for reader, data in chosen]

        def run(pairs: list[tuple[Principal, Item]] = pairs, policy: Any = policy) -> None:
            for reader, item in pairs:
                decide(reader, item, now=NOW, policy=policy)

        runs.append(run)
    row(
        "a_new_fact_set",
        "(a) first decision on a new set of facts (fresh policy)",
        *each_us(runs, len(chosen)),
        group="headline",
        fact_sets=len(chosen),
    )


def service(sizes: dict[str, Any], row: Row) -> None:
    """(b) a service request: parse reader and item JSON, decide, render, dump."""
    policy = default_policy()
    item_data, reader_data = _humber()
    ops = sizes["service_ops"]
    runs = []
    for repeat in range(sizes["repeats"]):
        requests = [
            (
                _json_safe(_renamed_reader(reader_data[n % len(reader_data)], f"{repeat}-{n}")),
                _json_safe(_renamed_item(item_data[n % len(item_data)], f"{repeat}-{n}")),
            )
            for n in range(ops)
        ]

        def run(requests: list[tuple[str, str]] = requests) -> None:
            for reader_text, item_text in requests:
                reader = parse_principal(parse_document(reader_text, source="<request>"))
                item = parse_item(parse_document(item_text, source="<request>"))
                json.dumps(render(item, decide(reader, item, now=NOW, policy=policy)))

        runs.append(run)
    row(
        "b_service_request",
        "(b) service request: parse JSON, decide, render, dump (Humber)",
        *each_us(runs, ops),
        group="headline",
    )
    service_steps(sizes, row)


def service_steps(sizes: dict[str, Any], row: Row) -> None:
    """(b) the service request's steps, each timed alone on new requests: where the time goes."""
    policy = default_policy()
    item_data, reader_data = _humber()
    ops = sizes["service_ops"]
    steps: dict[str, list[Callable[[], object]]] = {}
    for repeat in range(sizes["repeats"]):
        tags = [f"s{repeat}-{n}" for n in range(ops)]
        readers = [
            _json_safe(_renamed_reader(reader_data[n % len(reader_data)], tag))
            for n, tag in enumerate(tags)
        ]
        items = [
            _json_safe(_renamed_item(item_data[n % len(item_data)], tag))
            for n, tag in enumerate(tags)
        ]
        # Each step's input is the previous step's output, made before the clock starts.
        reader_docs = [parse_document(text, source="<request>") for text in readers]
        item_docs = [parse_document(text, source="<request>") for text in items]
        parsed = [
            (parse_principal(r), parse_item(i)) for r, i in zip(reader_docs, item_docs, strict=True)
        ]
        decided = [(i, decide(r, i, now=NOW, policy=policy)) for r, i in parsed]
        rendered = [render(i, d) for i, d in decided]
        fresh = [  # new content too: nothing decided before can share work with these
            (
                parse_principal(_renamed_reader(reader_data[n % len(reader_data)], f"{tag}d")),
                parse_item(_renamed_item(item_data[n % len(item_data)], f"{tag}d")),
            )
            for n, tag in enumerate(tags)
        ]
        steps.setdefault("parse", []).append(
            lambda readers=readers, items=items: [
                (parse_document(r, source="<request>"), parse_document(i, source="<request>"))
                for r, i in zip(readers, items, strict=True)
            ]
        )
        steps.setdefault("validate", []).append(
            lambda reader_docs=reader_docs, item_docs=item_docs: [
                (parse_principal(r), parse_item(i))
                for r, i in zip(reader_docs, item_docs, strict=True)
            ]
        )
        steps.setdefault("decide", []).append(
            lambda fresh=fresh: [decide(r, i, now=NOW, policy=policy) for r, i in fresh]
        )
        steps.setdefault("render", []).append(
            lambda decided=decided: [render(i, d) for i, d in decided]
        )
        steps.setdefault("dump", []).append(
            lambda rendered=rendered: [json.dumps(document) for document in rendered]
        )
    words = {
        "parse": "parse reader and item JSON (duplicate keys refused)",
        "validate": "validate reader and item (pydantic)",
        "decide": "decide, first time for the item",
        "render": "render",
        "dump": "json.dumps of the rendered view",
    }
    for step, runs in steps.items():
        row(
            f"b_step_{step}",
            f"(b) step: {words[step]}",
            *each_us(runs, ops),
            group="steps",
        )


# -- (c) and (d): fresh interpreters -------------------------------------------------------------


def _distinct_lines(items: list[dict[str, Any]], count: int) -> Iterator[str]:
    """`count` JSON Lines, every one a distinct item (new id and title)."""
    encoded = [(data["id"], data["title"], json.dumps(data)) for data in items]
    for number in range(count):
        old_id, old_title, line = encoded[number % len(encoded)]
        line = line.replace(f'"{old_id}"', f'"BEN-{number:07d}"', 1)
        line = line.replace(f'"{old_title}"', f'"{old_title} {number}"', 1)
        yield line + "\n"


def write_lines(path: Path, items: list[dict[str, Any]], count: int) -> Path:
    """Write `count` distinct JSON Lines items to `path`."""
    with path.open("w", encoding="utf-8") as handle:
        handle.writelines(_distinct_lines(items, count))
    return path


def child_filter(path: str, reader_json: str) -> dict[str, Any]:
    """In a fresh interpreter: one cold `filter` pass over a JSON Lines file, to JSON text."""
    import resource  # noqa: PLC0415 (POSIX only, and only the child needs it)

    policy = default_policy()
    reader = parse_principal(json.loads(reader_json))
    wall = time.perf_counter()
    start = time.process_time()
    lines = shown = size = 0
    for document in filter_items(reader, iter_items(path, policy=policy), now=NOW, policy=policy):
        size += len(json.dumps(document))
        shown += 1
    seconds = time.process_time() - start
    wall = time.perf_counter() - wall
    with Path(path).open(encoding="utf-8") as handle:
        lines = sum(1 for _ in handle)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status = Path("/proc/self/status")
    if status.exists():  # ru_maxrss survives exec on Linux: the parent's peak
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                peak_kb = int(line.split()[1])
    return {
        "lines": lines,
        "shown": shown,
        "bytes": size,
        "seconds": seconds,
        "wall_seconds": wall,
        "peak_mb": peak_kb / 1024,
    }


def child_fresh(readers: int, items: int) -> dict[str, Any]:
    """In a fresh interpreter: `readers` x `items` distinct pairs, each decided once."""
    policy = default_policy()
    item_data, reader_data = corpus.generate(items, readers, seed=readers * 7919 + items)
    parsed_items = [parse_item(data) for data in item_data]
    parsed_readers = [parse_principal(data) for data in reader_data]
    wall = time.perf_counter()
    start = time.process_time()
    for reader in parsed_readers:
        for item in parsed_items:
            decide(reader, item, now=NOW, policy=policy)
    seconds = time.process_time() - start
    wall = time.perf_counter() - wall
    return {"decisions": readers * items, "seconds": seconds, "wall_seconds": wall}


def _bulk_reader(sizes: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The bulk rows' corpus and reader (a crown servant with current SC or above), as JSON."""
    item_data, reader_data = corpus.generate(
        10_000 if sizes["filter_lines"] > 10_000 else 1_000, 50
    )
    readers = [parse_principal(data) for data in reader_data]
    reader = next(
        (
            r
            for r in readers
            if r.employment == "crown-servant"
            and r.vetting is not None
            and r.vetting.level in ("SC", "eSC", "DV")
            and (r.vetting.expires is None or r.vetting.expires > NOW.date())
        ),
        readers[0],
    )
    return item_data, reader.model_dump_json()


class Million:
    """The 1,000,000-line memory run: started first, beside the other rows, collected last.

    It takes minutes of CPU on its own, so it runs in its own interpreter while
    the other rows are timed (each row counts only its own process's CPU time).
    """

    def __init__(self, sizes: dict[str, Any]) -> None:
        """Write the file and start the child (nothing when `memory_lines` is 0)."""
        self.lines = sizes["memory_lines"]
        self.process: subprocess.Popen[str] | None = None
        if not self.lines:
            return
        self.temp = tempfile.TemporaryDirectory(prefix="dissemination-bench-")
        item_data, reader_json = _bulk_reader(sizes)
        path = write_lines(Path(self.temp.name) / "big.jsonl", item_data, self.lines)
        self.process = subprocess.Popen(  # noqa: S603 (our own script, our own arguments)
            [sys.executable, str(RUN), "--child-filter-cold", str(path), reader_json],
            stdout=subprocess.PIPE,
            text=True,
        )

    def collect(self, row: Row, memory: dict[str, Any]) -> None:
        """Wait for the child and add its row."""
        if self.process is None:
            return
        out, _ = self.process.communicate()
        self.temp.cleanup()
        if self.process.returncode:
            raise RuntimeError(f"the 1,000,000-line child failed ({self.process.returncode})")
        result = json.loads(out.strip().splitlines()[-1])
        memory[f"{result['lines']}_lines"] = result
        row(
            "c_filter_cold_1m",
            f"(c) filter {self.lines:,} JSON Lines items, fresh process (per item)",
            result["seconds"] / result["lines"] * 1e6,
            group="headline",
            total_s=result["seconds"],
            wall_s=result["wall_seconds"],
            peak_mb=result["peak_mb"],
        )


def fresh_rows(sizes: dict[str, Any], row: Row) -> dict[str, Any]:
    """(c) filter in a fresh interpreter and (d) readers x items in fresh interpreters."""
    memory: dict[str, Any] = {}
    item_data, reader_json = _bulk_reader(sizes)
    with tempfile.TemporaryDirectory(prefix="dissemination-bench-") as temp:
        lines = sizes["filter_lines"]
        path = write_lines(Path(temp) / "items.jsonl", item_data, lines)
        result = child("--child-filter-cold", str(path), reader_json)
        row(
            "c_filter_cold",
            f"(c) filter {lines:,} distinct JSON Lines items, cold, fresh process (per item)",
            result["seconds"] / result["lines"] * 1e6,
            group="headline",
            total_s=result["seconds"],
            wall_s=result["wall_seconds"],
            shown=result["shown"],
            peak_mb=result["peak_mb"],
        )
        memory[f"{result['lines']}_lines"] = result
    for readers_count, items_count in sizes["fresh"]:
        result = child("--child-fresh", str(readers_count), str(items_count))
        row(
            f"d_fresh_{readers_count}x{items_count}",
            f"(d) {readers_count:,} readers x {items_count} items, fresh process (per decision)",
            result["seconds"] / result["decisions"] * 1e6,
            group="headline",
            total_s=result["seconds"],
            wall_s=result["wall_seconds"],
        )
    return memory


# -- (e) masking ---------------------------------------------------------------------------------


def _scaled(size: int, number: int) -> dict[str, Any]:
    """An item of `size` portions and `size` subjects, half withheld, new content per `number`.

    `masking_bench._scaled_item` where this checkout has it (issue 14 (e), the
    masking work's own generator), else a generator of the same shape here.
    """
    generator = getattr(masking_bench, "_scaled_item", None)
    if generator is not None:
        return _renamed_item(generator(size), f"m{number}")
    rng = random.Random(size * 1_000 + number)
    chosen: list[tuple[dict[str, Any], list[str]]] = []
    while len(chosen) < size:
        chosen.extend(masking_bench._subjects(rng))
    chosen = chosen[:size]
    subjects = [
        {**subject, "marking": {"min_vetting": "DV"}} if index % 2 else subject
        for index, (subject, _) in enumerate(chosen)
    ]
    portions = []
    for index in range(size):
        shown, hidden = chosen[2 * index % size][1], chosen[(2 * index + 1) % size][1]
        text = f"Report {number}. Linked to {rng.choice(shown)} and to {rng.choice(hidden)}."
        portions.append({"id": f"p{index + 1}", "category": "narrative", "text": text})
    return {
        "id": f"SCALE-{size}-{number}",
        "title": f"Report of {size} ({number})",
        "created": "2026-11-20T09:14:00Z",
        "classification": "OFFICIAL-SENSITIVE",
        "required_vetting": "SC",
        "originator": {"organisation": "border-force", "unit": "FIC Hull"},
        "owner": {"organisation": "border-force", "unit": "FIC Hull", "contact": "fic@example.org"},
        "grading": {"source": "2", "intelligence": "B", "handling_code": "P"},
        "subjects": subjects,
        "portions": portions,
    }


def masking_rows(sizes: dict[str, Any], row: Row) -> None:
    """(e) n portions and n subjects, half withheld: first decision on a new item, and render."""
    policy = default_policy()
    reader = parse_principal(
        {
            "id": "reader-sc",
            "organisation": "border-force",
            "employment": "crown-servant",
            "nationality": "GBR",
            "vetting": {"level": "SC"},
        }
    )
    number = 0
    for size in sizes["masking"]:
        repeats = sizes["repeats"] if size < 1_000 else 3
        count = max(1, 200 // size)  # items per repeat: enough to time the small ones
        batches = []
        for _ in range(repeats):
            batches.append([parse_item(_scaled(size, number + n)) for n in range(count)])
            number += count
        decided: list[tuple[Item, Any]] = []
        runs = []
        for batch in batches:

            def run(batch: list[Item] = batch, decided: list[Any] = decided) -> None:
                for item in batch:
                    decided.append((item, decide(reader, item, now=NOW, policy=policy)))

            runs.append(run)
        gc.collect()
        us, samples = each_us(runs, count)
        row(
            f"e_masking_{size}_decide",
            f"(e) masking n={size:,}: first decision (half the subjects withheld)",
            us,
            samples,
            group="headline",
        )
        pairs = decided[:count]

        def render_all(pairs: list[tuple[Item, Any]] = pairs) -> None:
            for item, decision in pairs:
                render(item, decision)

        row(
            f"e_masking_{size}_render",
            f"(e) masking n={size:,}: render",
            *median_us(render_all, count, repeats),
            group="headline",
        )


# -- (g) hot: cache hits ---------------------------------------------------------------------------


def hot_rows(sizes: dict[str, Any], row: Row) -> None:
    """(g) the same pairs again: kept decisions answer (cache hits), and render of them."""
    policy = default_policy()
    item_data, reader_data = corpus.generate(1_000, 20, seed=5)
    items = [parse_item(data) for data in item_data]
    readers = [parse_principal(data) for data in reader_data]
    pairs = [(r, i) for r in readers for i in items][: sizes["hot_pairs"]]

    def hot() -> None:
        for reader, item in pairs:
            decide(reader, item, now=NOW, policy=policy)

    hot()
    row(
        "g_decide_hot",
        "(g) decide, hot: cache hit (same objects again)",
        *median_us(hot, len(pairs), sizes["repeats"]),
        group="hot",
    )
    # More readers than an item keeps decisions for: screens of 100 readers over the same items.
    many = [parse_principal(data) for data in corpus.generate(0, 100, seed=6)[1]]
    crowd = [(r, i) for r in many for i in items[: max(1, sizes["hot_pairs"] // len(many))]]

    def crowded() -> None:
        for reader, item in crowd:
            decide(reader, item, now=NOW, policy=policy)

    crowded()
    row(
        "g_decide_hot_100_readers",
        "(g) decide again, 100 readers per item (kept decisions, if the cache holds them)",
        *median_us(crowded, len(crowd), sizes["repeats"]),
        group="hot",
    )
    decisions = [(item, decide(reader, item, now=NOW, policy=policy)) for reader, item in pairs]

    def rendered() -> None:
        for item, decision in decisions:
            json.dumps(render(item, decision))

    row(
        "g_render_hot",
        "(g) render + json.dumps of a kept decision",
        *median_us(rendered, len(decisions), sizes["repeats"]),
        group="hot",
    )


def run(quick: bool, row: Row, note: Row) -> dict[str, Any]:
    """Every headline row, in order. Returns what the results file keeps besides the rows."""
    sizes = QUICK if quick else FULL
    million = Million(sizes)
    made = hand_rule(sizes, row)
    peer_rows(made, sizes, row, note)
    first_simple(made, sizes, row, note)
    first_humber(sizes, row)
    new_fact_sets(sizes, row)
    service(sizes, row)
    memory = fresh_rows(sizes, row)
    masking_rows(sizes, row)
    hot_rows(sizes, row)
    million.collect(row, memory)
    return {"headline_sizes": sizes, "memory": memory}
