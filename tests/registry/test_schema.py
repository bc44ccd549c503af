"""The schema life cycle (issue 12, deliver 5-6): only `upgrade` creates or alters tables.

Opening reads: a database with no registry, or one at another revision, is
refused in one line saying what to run, and nothing is created. `upgrade`
creates (SQLite: a 0600 file in WAL mode, `synchronous = FULL` per
connection) or migrates, a registry made before migrations included.
Read-only use works for lookups on both databases.
"""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from dissemination.errors import RegistryError
from dissemination.identifiers import normalise_value
from dissemination.registry import Registry, upgrade
from dissemination.registry.database import make_tables, open_engine
from dissemination.registry.schema import HEAD, _config
from tests.registry.support import AUDITOR, KEYS, NOW, container, item, reader

CONTAINER = normalise_value("container", "MSCU1234566")


def _tables(url: str, prefix: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name for name in inspect(connection).get_table_names() if name.startswith(prefix)
            }
    finally:
        engine.dispose()


def test_opening_a_database_with_no_registry_is_refused_and_creates_nothing(
    database: tuple[str, str],
) -> None:
    url, prefix = database
    if url.startswith("sqlite"):  # the file must exist: opening never makes one
        with pytest.raises(RegistryError, match="no registry at this path: create it with"):
            Registry(url, keys=KEYS, table_prefix=prefix)
        assert not Path(url.removeprefix("sqlite:///")).exists()
        return
    with pytest.raises(RegistryError, match="create it with `dissemination registry upgrade`"):
        Registry(url, keys=KEYS, table_prefix=prefix)
    assert _tables(url, prefix) == set()


def test_upgrade_creates_then_finds_nothing_to_do(database: tuple[str, str]) -> None:
    url, prefix = database
    first = upgrade(url, keys=KEYS, table_prefix=prefix)
    assert (first.before, first.after, first.created) == (None, HEAD, True)
    again = upgrade(url, keys=KEYS, table_prefix=prefix)
    assert (again.before, again.after, again.created) == (HEAD, HEAD, False)
    assert f"{prefix}alembic_version" in _tables(url, prefix)
    with Registry(url, keys=KEYS, table_prefix=prefix) as registry:
        assert registry.register(item("IT-1", [container()]), now=NOW)[0].outcome == "new"


@pytest.mark.parametrize(
    ("revision", "advice"),
    [
        ("0001", "run `dissemination registry upgrade`"),
        ("9999", "it is newer than this release: upgrade dissemination"),
    ],
)
def test_a_registry_at_another_revision_is_refused_saying_what_to_run(
    database: tuple[str, str], revision: str, advice: str
) -> None:
    url, prefix = database
    upgrade(url, keys=KEYS, table_prefix=prefix)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(f'UPDATE "{prefix}alembic_version" SET version_num = :v'),  # noqa: S608
            {"v": revision},
        )
    engine.dispose()
    with pytest.raises(RegistryError) as raised:
        Registry(url, keys=KEYS, table_prefix=prefix)
    message = str(raised.value)
    assert f"schema revision {revision}, this release needs {HEAD}: {advice}" in message
    assert "\n" not in message


def test_a_registry_made_before_migrations_is_migrated_with_its_rows(
    database: tuple[str, str],
) -> None:
    url, prefix = database
    # Build schema version 1 as the release before migrations left it.
    engine = open_engine(url, create=True)
    with engine.begin() as connection:
        command.upgrade(_config(connection, prefix), "0001")
        connection.execute(text(f'DROP TABLE "{prefix}alembic_version"'))
        meta = make_tables(prefix).meta
        chain = [{"id": key.id, "check": key.check, "added": NOW.isoformat()} for key in KEYS]
        connection.execute(
            meta.insert(),
            [
                {"name": "schema_version", "value": "1"},
                {"name": "keys", "value": json.dumps(chain)},
            ],
        )
        connection.execute(
            text(
                f'INSERT INTO "{prefix}events" (digest, at, action, actor) '  # noqa: S608
                "VALUES ('d', :at, 'claim', 'old')"
            ),
            {"at": NOW.replace(tzinfo=None)},
        )
    engine.dispose()
    with pytest.raises(RegistryError, match="run `dissemination registry upgrade`"):
        Registry(url, keys=KEYS, table_prefix=prefix)
    done = upgrade(url, keys=KEYS, table_prefix=prefix)
    assert (done.before, done.after, done.created) == ("0001", HEAD, False)
    engine = create_engine(url)
    with engine.connect() as connection:
        query = text(f'SELECT actor, expires FROM "{prefix}events"')  # noqa: S608
        rows = connection.execute(query).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("old", None)]
    with Registry(url, keys=KEYS, table_prefix=prefix) as registry:
        registry.register(item("IT-1", [container()]), now=NOW)


def test_the_sqlite_file_is_owner_only_in_wal_mode_and_syncs_every_commit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "registry.sqlite"
    with Registry(f"sqlite:///{path}", keys=KEYS, upgrade=True) as registry:
        registry.register(item("IT-1", [container()]), now=NOW)
        engine = open_engine(f"sqlite:///{path}")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        raw.close()


def test_a_sqlite_path_whose_folder_does_not_exist_is_an_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mistyped' / 'registry.sqlite'}"
    for attempt in (lambda: upgrade(url, keys=KEYS), lambda: Registry(url, keys=KEYS)):
        with pytest.raises(RegistryError, match="the folder of the database file does not exist"):
            attempt()
    assert not (tmp_path / "mistyped").exists()


def test_a_read_only_registry_answers_lookups_and_refuses_writes(
    database: tuple[str, str],
) -> None:
    url, prefix = database
    with Registry(url, keys=KEYS, table_prefix=prefix, upgrade=True) as registry:
        registry.register(item("IT-1", [container()]), now=NOW)
    with Registry(url, keys=KEYS, table_prefix=prefix, read_only=True) as registry:
        answer = registry.lookup(CONTAINER, reader(), now=NOW)
        assert [linked.item_id for linked in answer.items] == ["IT-1"]
        assert registry.history(CONTAINER, by=AUDITOR, now=NOW).items == ("IT-1",)
        with pytest.raises(RegistryError, match="opened read-only"):
            registry.register(item("IT-2", [container()]), now=NOW)
    if url.startswith("sqlite"):
        # The file's own read-only mode too (not just the library's refusal).
        engine = open_engine(url, read_only=True)
        with engine.connect() as connection, pytest.raises(Exception, match="readonly"):
            connection.exec_driver_sql("DELETE FROM registry_claims")
        engine.dispose()
