"""Registry answers leak nothing a reader's `view` withholds (issue 10, item 1).

An item's grading conditions name two subjects the reader may not see; `view`
masks both. The registry's lookup answer must show the conditions masked
exactly as `view` does, and the database must not hold the conditions, nor
any subject value, in clear.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from dissemination import (
    Item,
    Principal,
    decide,
    default_policy,
    parse_item,
    parse_principal,
    render,
)
from dissemination.cli import main
from dissemination.identifiers import normalise_value
from dissemination.registry import Registry
from dissemination.registry.database import make_tables
from tests.registry.support import KEYS, NOW, postgres_url
from tests.strategies import item_data, principals

NOW_TEXT = "2026-11-27T10:00:00Z"
CONDITIONS = "Do not approach AB12 CDE or its driver John SMITH"
SECRETS = ("AB12 CDE", "AB12CDE", "SMITH", "Smith")

ITEM: dict[str, Any] = {
    "id": "HUM-LEAK-1",
    "title": "Container of interest",
    "created": "2026-11-20T09:14:00Z",
    "classification": "OFFICIAL-SENSITIVE",
    "originator": {"organisation": "border-force", "unit": "FIC Hull"},
    "owner": {
        "organisation": "border-force",
        "unit": "FIC Hull",
        "contact": "fic.hull@example.gov.uk",
    },
    "grading": {"source": "2", "intelligence": "B", "handling_code": "C", "conditions": CONDITIONS},
    "subjects": [
        {"type": "container", "value": "MSCU1234566"},
        {"type": "vehicle", "value": "AB12 CDE", "marking": {"min_vetting": "SC"}},
        {
            "type": "person",
            "name": "John SMITH",
            "date_of_birth": "1980-02-29",
            "marking": {"min_vetting": "SC"},
        },
    ],
    "portions": [{"id": "p1", "category": "tearline", "text": "Stop and examine on arrival"}],
}
READER: dict[str, Any] = {
    "id": "ctc-officer",
    "organisation": "border-force",
    "employment": "crown-servant",
    "vetting": {"level": "CTC"},
    "nationality": "GBR",
}


def run(*args: Any) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cli_database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path]]:
    """A registry URL for the CLI and a key file; PostgreSQL tables dropped before and after."""
    monkeypatch.delenv("DISSEMINATION_REGISTRY_KEY", raising=False)
    monkeypatch.delenv("DISSEMINATION_REGISTRY_KEY_FILE", raising=False)
    keys = tmp_path / "registry.keys"
    keys.write_text(run("registry", "keygen", "k1").output)
    keys.chmod(0o600)
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}", keys
        return
    url = postgres_url()
    engine = create_engine(url)
    tables = make_tables("registry_").metadata
    try:
        tables.drop_all(engine)
        yield url, keys
    finally:
        tables.drop_all(engine)
        engine.dispose()


def _stored_bytes(url: str) -> bytes:
    """Every byte the registry database holds: the SQLite file (and its WAL), or every row."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(
            candidate.read_bytes()
            for candidate in (path, path.with_name(path.name + "-wal"))
            if candidate.exists()
        )
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            dumped = [
                str(row)
                for table in make_tables("registry_").metadata.sorted_tables
                for row in connection.execute(text(f"SELECT * FROM {table.name}"))  # noqa: S608 (our own table names)
            ]
    finally:
        engine.dispose()
    return "\n".join(dumped).encode()


def test_lookup_masks_conditions_as_view_does_and_stores_nothing_in_clear(
    cli_database: tuple[str, Path], tmp_path: Path
) -> None:
    url, keys = cli_database
    item = parse_item(ITEM)
    reader = parse_principal(READER)
    decision = decide(reader, item, now=NOW, policy=default_policy())
    viewed = render(item, decision)
    assert not any(secret in json.dumps(viewed) for secret in SECRETS)  # view masks both
    assert viewed["conditions"][0].startswith("Do not")

    item_file = tmp_path / "item.json"
    item_file.write_text(json.dumps(ITEM))
    reader_file = tmp_path / "reader.json"
    reader_file.write_text(json.dumps(READER))
    assert run("registry", "upgrade", "--db", url, "--key-file", keys).exit_code == 0
    registered = run(
        "registry", "register", item_file, "--db", url, "--key-file", keys, "--now", NOW_TEXT
    )
    assert registered.exit_code == 0, registered.stderr
    for fmt in ("json", "text"):
        looked = run(
            "registry", "lookup", "container", "MSCU1234566", "--as", reader_file,
            "--db", url, "--key-file", keys, "--now", NOW_TEXT, "--format", fmt,
        )  # fmt: skip
        assert looked.exit_code == 0, looked.stderr
        assert not any(secret in looked.output for secret in SECRETS), fmt
    looked = run(
        "registry", "lookup", "container", "MSCU1234566", "--as", reader_file,
        "--db", url, "--key-file", keys, "--now", NOW_TEXT, "--format", "json",
    )  # fmt: skip
    answer = json.loads(looked.output)
    (linked,) = answer["items"]
    assert linked["view"] == viewed["view"]
    assert linked["conditions"] == viewed["conditions"]  # masked exactly as `view` masks them

    stored = _stored_bytes(url)
    for secret in (CONDITIONS, "approach", *SECRETS, "MSCU1234566", "1980-02-29"):
        assert secret.encode() not in stored, secret


# -- the property: a lookup shows nothing its reader's `view` does not -------------------------

LOOKED_UP = normalise_value("container", "MSCU1234566")
_REGISTRY_ONLY = {"linked", "since", "expires", "identifier", "type"}


@st.composite
def _mentioning_items(draw: st.DrawFn) -> tuple[Item, Principal]:
    """An item about container MSCU1234566 whose conditions name every other subject."""
    data = draw(item_data())
    mark = data["subjects"][0].get("marking") if data["subjects"] else None
    subject: dict[str, Any] = {"type": "container", "value": "MSCU1234566"}
    if mark is not None:
        subject["marking"] = mark
    others = []
    for other in data["subjects"][1:]:
        kept: dict[str, Any] = {"type": "other", "value": other.get("value") or other["name"]}
        if "marking" in other:
            kept["marking"] = other["marking"]
        others.append(kept)
    data["subjects"] = [subject, *others]
    named = " and ".join(other["value"] for other in others) or "nobody"
    data["grading"] = {
        "source": "2",
        "intelligence": "B",
        "handling_code": "C",
        "conditions": f"Do not approach {named}",
    }
    return parse_item(data), draw(principals())


def _strings(data: Any, *, skip: frozenset[str] = frozenset()) -> list[str]:
    if isinstance(data, dict):
        return [
            s for key, value in data.items() if key not in skip for s in _strings(value, skip=skip)
        ]
    if isinstance(data, list):
        return [s for value in data for s in _strings(value, skip=skip)]
    return [data] if isinstance(data, str) else []


@settings(max_examples=100, deadline=None)
@given(case=_mentioning_items())
def test_every_string_of_a_lookup_is_in_the_readers_view(case: tuple[Item, Principal]) -> None:
    original, who = case
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "registry.sqlite"
        with Registry(f"sqlite:///{path}", keys=KEYS, upgrade=True) as registry:
            registry.register(original, now=NOW)
            answer = registry.lookup(LOOKED_UP, who, now=NOW).to_json()
        stored = path.read_bytes() + (
            path.with_name(path.name + "-wal").read_bytes()
            if path.with_name(path.name + "-wal").exists()
            else b""
        )
    decision = decide(who, original, now=NOW)
    viewed = render(original, decision)
    shown = set(_strings(viewed))
    answered = _strings(answer, skip=frozenset(_REGISTRY_ONLY))
    assert set(answered) <= shown
    for linked in answer["items"]:
        if "conditions" in linked:
            assert linked["conditions"] == viewed["conditions"]
    text = json.dumps(answer)
    for index, subject in enumerate(original.subjects):
        value = str(getattr(subject, "value", None) or getattr(subject, "name", ""))
        assert value.encode() not in stored
        if index and index not in decision.subjects:  # the first is the asker's own identifier
            assert value not in text
    assert original.grading is not None
    assert original.grading.conditions is not None
    assert original.grading.conditions.encode() not in stored
