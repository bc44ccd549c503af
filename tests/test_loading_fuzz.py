"""Fuzzing the readers of every input file (issue 13 item 4, issue 10 items 3-4).

Valid items, readers, case files and profiles are mutated (types, dates, depth,
size, YAML features, encodings, keys) and read the way the CLI reads them. For
every document the loader either returns a value or raises an error of the
library's tree whose message is one line naming the file (and, for a document
that breaks the contract, the field), and no error message, repr, str, args or
chained cause holds any text of the document beyond vocabulary: every string
the mutations add carries a marker that must never come back.

The examples per test add up to more than 5,000 documents per run; set
`DISSEMINATION_FUZZ_SCALE` to multiply them (and `DISSEMINATION_FUZZ_REPORT`
to a file to receive the outcome counts).
"""

from __future__ import annotations

import base64
import collections
import copy
import json
import os
import random
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissemination.errors import DisseminationError, DocumentError
from dissemination.loading import iter_items, load_item, load_principal
from dissemination.policy import DEFAULT_POLICY_DIR, load_policy
from dissemination.tooling.cases import load_case_file

ROOT = Path(__file__).resolve().parent.parent
ITEMS = sorted((ROOT / "examples" / "humber" / "items").glob("*.yaml"))
READERS = sorted((ROOT / "examples" / "humber" / "readers").glob("*.yaml"))
CASES = ROOT / "tests" / "cases"

MARKER = "QZXSECRET"
"""Carried by every string a mutation writes: it must appear in no error."""

SCALE = float(os.environ.get("DISSEMINATION_FUZZ_SCALE", "1"))
OUTCOMES: collections.Counter[str] = collections.Counter()


def _examples(count: int) -> int:
    return max(1, int(count * SCALE))


def fuzz(count: int) -> settings:
    """Settings of a fuzz test of `count` examples (times `DISSEMINATION_FUZZ_SCALE`)."""
    return settings(
        max_examples=_examples(count),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


def _seed(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


ITEM_SEEDS = [json.loads(json.dumps(_seed(path), default=str)) for path in ITEMS]
READER_SEEDS = [json.loads(json.dumps(_seed(path), default=str)) for path in READERS]

# -- values a mutation puts somewhere ----------------------------------------------


def _secret(rng: random.Random) -> str:
    return f"{MARKER}{rng.randrange(10**6)}"


def _deep(rng: random.Random, depth: int) -> Any:
    value: Any = _secret(rng)
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {_secret(rng): value}
    return value


HUGE = "HUGEINTEGERHERE"
"""Replaced in the text by 100,000 digits (Python cannot write such an int)."""

BAD_DATES = [
    "1980-02-30",
    "2026-11-31T09:14:00Z",
    "2027-02-30",
    "2026-13-01",
    "2026-11-20T25:00:00Z",
    "2026-11-20T09:14:00",  # no zone
    "0000-00-00",
    "2026-11-20T09:14:00+24:00",
    "99999-01-01",
]


def _value(rng: random.Random) -> Any:  # noqa: PLR0911, PLR0912 (one branch per kind of value)
    kind = rng.randrange(14)
    if kind == 0:
        return _secret(rng)
    if kind == 1:
        return rng.choice(BAD_DATES)
    if kind == 2:
        digits = rng.choice([20, 400, 1001, 100_000])
        return HUGE if digits > 4000 else int("9" * digits)
    if kind == 3:
        return -(10 ** rng.randrange(1, 30))
    if kind == 4:
        return rng.choice([True, False, None, 0, 1.5, float("inf"), -0.0])
    if kind == 5:
        return [_secret(rng) for _ in range(rng.randrange(4))]
    if kind == 6:
        return {_secret(rng): _secret(rng)}
    if kind == 7:
        return _deep(rng, rng.choice([5, 50, 99, 101, 120]))  # 3,000: in the text
    if kind == 8:
        return _secret(rng) * rng.choice([1, 50, 5000])
    if kind == 9:
        return f"{_secret(rng)}\n{_secret(rng)}\r\u2028\x00"
    if kind == 10:
        return f"[[SC: {_secret(rng)}"  # an unclosed inline span
    if kind == 11:
        return f"\u202e{_secret(rng)}\u200b\ufeff"
    if kind == 12:
        return {"kind": _secret(rng)}
    return f"{_secret(rng)}`*&!|>%@"


# -- structural mutations of plain data ---------------------------------------------------


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, (*prefix, index))


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def mutate_data(data: Any, rng: random.Random) -> Any:
    """Apply one to three structural mutations to a copy of `data`."""
    data = copy.deepcopy(data)
    for _ in range(rng.randrange(1, 4)):
        paths = [path for path in _paths(data) if path]
        if not paths:
            return _value(rng)
        path = rng.choice(paths)
        parent = _parent(data, path)
        action = rng.randrange(5)
        if action == 0:  # replace a value
            parent[path[-1]] = _value(rng)
        elif action == 1 and isinstance(parent, dict):  # drop a key
            del parent[path[-1]]
        elif action == 2 and isinstance(parent, dict):  # an unknown key
            parent[_secret(rng)] = _value(rng)
        elif action == 3 and isinstance(parent, list):  # duplicate or drop an entry
            if rng.random() < 0.5:
                parent.append(copy.deepcopy(parent[path[-1]]))
            else:
                del parent[path[-1]]
        else:  # put a secret into a string, or a string where another type was
            old = parent[path[-1]]
            parent[path[-1]] = f"{old} {_secret(rng)}" if isinstance(old, str) else _secret(rng)
    return data


# -- serialisation and text-level mutations ------------------------------------------------

YAML_FEATURES = [
    lambda s: f"{s}\n? [{s}, b]\n: 1\n",  # a complex key
    lambda s: f"anchor: &{s} x\nalias: *{s}\n",  # anchor and alias
    lambda s: f"ref: *{s}\n",  # an undefined alias
    lambda s: f"tagged: !{s} x\n",  # an unknown tag
    lambda s: f"binary: !!binary {base64.b64encode(s.encode()).decode()}\n",
    lambda s: f"pyobj: !!python/object:os.system {s}\n",
    lambda s: f"stamp: !!timestamp 2026-02-30 {s}\n",
    lambda s: f"'{s}': 1\n'{s}': 2\n",  # a duplicate key
    lambda s: f"merge:\n  <<: {{a: {s}}}\n",
    lambda s: f"---\nsecond: {s}\n",  # a second document
    lambda s: f"{s}: [" * 400 + "]" * 400 + "\n",
    lambda s: f"{s}:\n" + "- " * 3000 + "x\n",  # 3,000 levels of block sequences
    lambda s: f"{s}:\n" + "".join(" " * (2 * i) + f"k{i}:\n" for i in range(1, 300)),
    lambda s: f"bad: '{s}\n",  # an unterminated quote
    lambda s: f"\t{s}: tab\n",
    lambda s: f"big: {'1' * 5000}{s}\n",
]


def serialise(data: Any, rng: random.Random, fmt: str) -> bytes:
    """Write data as JSON or YAML, then perhaps damage the text or its encoding."""
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=rng.random() < 0.5, default=str)
    else:
        text = yaml.dump(
            data,
            Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=None,
        )
    text = text.replace(f'"{HUGE}"', "9" * 100_000).replace(HUGE, "9" * 100_000)
    secret = _secret(rng)
    action = rng.randrange(10)
    if action == 0 and fmt == "yaml":
        text += rng.choice(YAML_FEATURES)(secret)
    elif action == 1:  # truncate
        text = text[: rng.randrange(len(text) + 1)]
    elif action == 2 and fmt == "json":  # a duplicate key in the text
        text = text.replace("{", f'{{"{secret}": 1, "{secret}": 2, ', 1)
    elif action == 3:  # a line of content at the wrong indentation
        lines = text.splitlines()
        lines.insert(rng.randrange(len(lines) + 1), f"  Codename {secret}: 1")
        text = "\n".join(lines)
    elif action == 4:  # deep nesting in the text itself
        depth = rng.choice([99, 101, 3000])
        text = "[" * depth + json.dumps(secret) + "]" * depth
    raw = text.encode("utf-8")
    encoding = rng.randrange(8)
    if encoding == 0:
        raw = text.encode("utf-16")
    elif encoding == 1:
        raw = b"\xef\xbb\xbf" + raw  # a byte-order mark
    elif encoding == 2:
        raw = raw.replace(b" ", b"\xff", 1)  # an invalid byte
    elif encoding == 3:
        raw = text.encode("latin-1", errors="replace")
    elif encoding == 4:
        raw = raw.replace(b"\n", b"\x00\n", 1)
    return raw


# -- the check ---------------------------------------------------------------------------------


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(link for link in (current.__cause__, current.__context__) if link)


CASE_NAME = re.compile(r"case (name )?`[^`]*`")


def check_outcome(kind: str, path: Path, load: Callable[[], object]) -> None:
    """Load; succeed, or fail with one clean line of the library's error tree."""
    try:
        load()
    except DisseminationError as exc:
        error: DisseminationError = exc
    else:
        OUTCOMES[f"{kind}: accepted"] += 1
        return
    message = str(error)
    assert "\n" not in message, message
    assert "\r" not in message, message
    assert message.isprintable(), message
    assert str(path) in message, message
    if isinstance(error, DocumentError) and error.field:
        assert f"`{error.field}`" in message, message
    for link in _chain(error):
        if kind == "profile" and link is error:
            # A profile defines the vocabulary: its own keys (rule ids, terms) are
            # what its messages name. Nothing chained may quote it, though.
            continue
        for shown in (str(link), repr(link), *(repr(arg) for arg in link.args)):
            # A case's own name is how its author finds it (the one term quoted).
            text = CASE_NAME.sub("case", shown) if kind == "case file" else shown
            assert MARKER not in text, (type(link).__name__, text[:300])
    OUTCOMES[f"{kind}: {type(error).__name__}"] += 1


def _write(tmp: Path, name: str, raw: bytes) -> Path:
    # Rewritten in place: truncating on open costs milliseconds on some file systems.
    path = tmp / name
    with path.open("r+b" if path.exists() else "wb") as handle:
        handle.write(raw)
        handle.truncate()
    return path


# -- the tests ---------------------------------------------------------------------------------

RANDOMS = st.integers(min_value=0, max_value=2**32 - 1).map(random.Random)
"""A random generator per example, seeded by Hypothesis (cheaper than `st.randoms`)."""


@fuzz(2400)
@given(rng=RANDOMS, fmt=st.sampled_from(["json", "yaml"]), index=st.integers(0, len(ITEMS) - 1))
def test_mutated_items(
    tmp_path_factory: pytest.TempPathFactory, rng: random.Random, fmt: str, index: int
) -> None:
    tmp = tmp_path_factory.getbasetemp()
    raw = serialise(mutate_data(ITEM_SEEDS[index], rng), rng, fmt)
    path = _write(tmp, f"item.{fmt}", raw)
    check_outcome("item", path, lambda: load_item(path))


@fuzz(1500)
@given(rng=RANDOMS, fmt=st.sampled_from(["json", "yaml"]), index=st.integers(0, len(READERS) - 1))
def test_mutated_readers(
    tmp_path_factory: pytest.TempPathFactory, rng: random.Random, fmt: str, index: int
) -> None:
    tmp = tmp_path_factory.getbasetemp()
    raw = serialise(mutate_data(READER_SEEDS[index], rng), rng, fmt)
    path = _write(tmp, f"reader.{fmt}", raw)
    check_outcome("reader", path, lambda: load_principal(path))


@fuzz(600)
@given(rng=RANDOMS)
def test_mutated_json_lines(tmp_path_factory: pytest.TempPathFactory, rng: random.Random) -> None:
    """A stream of items: a bad line names the file and line and stops the stream."""
    tmp = tmp_path_factory.getbasetemp()
    lines = [json.dumps(rng.choice(ITEM_SEEDS)).encode() for _ in range(rng.randrange(1, 5))]
    bad = rng.randrange(len(lines))
    mutated = serialise(mutate_data(rng.choice(ITEM_SEEDS), rng), rng, "json")
    lines[bad] = mutated.replace(b"\n", b" ")
    path = _write(tmp, rng.choice(["items.jsonl", "items.json", "items"]), b"\n".join(lines))
    check_outcome("json lines", path, lambda: list(iter_items(path)))


CASE_SEED = yaml.safe_load((CASES / "caps.policy.yaml").read_text(encoding="utf-8"))


@fuzz(500)
@given(rng=RANDOMS)
def test_mutated_case_files(tmp_path_factory: pytest.TempPathFactory, rng: random.Random) -> None:
    tmp = tmp_path_factory.getbasetemp() / "cases"
    if not tmp.exists():
        shutil.copytree(CASES, tmp)
    seed_data = json.loads(json.dumps(CASE_SEED, default=str))
    seed_data["cases"] = seed_data["cases"][:3]
    raw = serialise(mutate_data(seed_data, rng), rng, "yaml")
    path = _write(tmp, "fuzz.policy.yaml", raw)
    check_outcome("case file", path, lambda: load_case_file(path))


PROFILE_SEED = yaml.safe_load((DEFAULT_POLICY_DIR / "profile.yaml").read_text(encoding="utf-8"))


@fuzz(150)
@given(rng=RANDOMS)
def test_mutated_profiles(tmp_path_factory: pytest.TempPathFactory, rng: random.Random) -> None:
    tmp = tmp_path_factory.getbasetemp() / "profile"
    if not tmp.exists():
        shutil.copytree(DEFAULT_POLICY_DIR, tmp)
    raw = serialise(mutate_data(PROFILE_SEED, rng), rng, "yaml")
    path = _write(tmp, "profile.yaml", raw)
    check_outcome("profile", path, lambda: load_policy(tmp))


def _secret_everywhere(data: Any, rng: random.Random) -> Any:
    """Every string value of a document with a secret marker in it (most become invalid)."""
    if isinstance(data, dict):
        return {key: _secret_everywhere(value, rng) for key, value in data.items()}
    if isinstance(data, list):
        return [_secret_everywhere(value, rng) for value in data]
    if isinstance(data, str) and rng.random() < 0.7:
        return rng.choice([f"{data} {_secret(rng)}", _secret(rng), f"{_secret(rng)}{data}"])
    return data


@fuzz(300)
@given(rng=RANDOMS, fmt=st.sampled_from(["json", "yaml"]), index=st.integers(0, len(ITEMS) - 1))
def test_a_secret_in_every_field_reaches_no_error(
    tmp_path_factory: pytest.TempPathFactory, rng: random.Random, fmt: str, index: int
) -> None:
    """Issue 10 item 3: a marker in every field; no message, repr, args or cause holds it."""
    tmp = tmp_path_factory.getbasetemp()
    data = _secret_everywhere(ITEM_SEEDS[index], rng)
    if rng.random() < 0.5:
        data = mutate_data(data, rng)
    path = _write(tmp, f"secret.{fmt}", serialise(data, rng, fmt))
    check_outcome("secret item", path, lambda: load_item(path))
    reader = _secret_everywhere(rng.choice(READER_SEEDS), rng)
    path = _write(tmp, f"secret-reader.{fmt}", serialise(reader, rng, fmt))
    check_outcome("secret reader", path, lambda: load_principal(path))


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "item.yaml"
    os.mkfifo(fifo)
    with pytest.raises(DisseminationError, match="not a regular file"):
        load_item(fifo)
    with pytest.raises(DisseminationError, match="not a regular file"):
        list(iter_items(fifo))
    with pytest.raises(DisseminationError, match="not a regular file"):
        load_principal(fifo)


def teardown_module() -> None:
    """Write the outcome counts when asked (for the notes of a long run)."""
    report = os.environ.get("DISSEMINATION_FUZZ_REPORT")
    if report:
        lines = [f"{count:7d}  {name}" for name, count in sorted(OUTCOMES.items())]
        total = sum(OUTCOMES.values())
        Path(report).write_text("\n".join([*lines, f"{total:7d}  documents"]) + "\n")
