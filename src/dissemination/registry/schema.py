"""The registry's schema life cycle: `upgrade` creates or migrates (Alembic); opening checks.

Only `upgrade` (`dissemination registry upgrade`) creates or alters tables.
It runs the Alembic revisions in `migrations/` in one transaction (PostgreSQL:
under an advisory lock, so several starting at once do not collide), records
the blind-index key chain on a new registry, and checks the keys of an
existing one. Every other command opens the registry read-only as far as the
schema goes: `check` reads the revision and refuses a database that has no
registry, or one at another revision, with one line saying what to run.

A registry made before migrations existed (schema version 1 or 2 in
`<prefix>meta`, no version table) is stamped at its revision and migrated.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from dissemination.errors import RegistryError
from dissemination.registry.database import (
    advisory_lock,
    display_url,
    make_tables,
    open_engine,
    run,
)
from dissemination.registry.keys import KeyRing, chain_matches

__all__ = ["HEAD", "Upgraded", "check", "revision_of", "upgrade"]

_SCRIPTS: Final = "dissemination.registry:migrations"
_LEGACY: Final = {"1": "0001", "2": "0002"}  # `meta.schema_version` before migrations


def _config(connection: Connection | None = None, prefix: str = "registry_") -> Config:
    config = Config()
    config.set_main_option("script_location", _SCRIPTS)
    config.attributes["connection"] = connection
    config.attributes["prefix"] = prefix
    return config


HEAD: Final = ScriptDirectory.from_config(_config()).get_current_head() or ""
"""The schema revision this release reads and writes."""


@dataclass(frozen=True, slots=True)
class Upgraded:
    """What `upgrade` did.

    Attributes:
        before: the revision found (None: a new registry).
        after: the revision now (`HEAD`).
        created: whether the registry was created (tables and key chain).
    """

    before: str | None
    after: str
    created: bool


def revision_of(connection: Connection, prefix: str) -> str | None:
    """The registry's schema revision, or None when the database holds no registry.

    Args:
        connection: a connection (any transaction).
        prefix: the table prefix.

    Returns:
        The revision id; for a registry made before migrations, the revision
        its recorded schema version corresponds to.
    """
    tables = set(inspect(connection).get_table_names())
    if f"{prefix}alembic_version" in tables:
        found = connection.execute(
            text(f'SELECT version_num FROM "{prefix}alembic_version"')  # noqa: S608 (our prefix)
        ).scalar_one_or_none()
        return None if found is None else str(found)
    if f"{prefix}meta" not in tables:
        return None
    meta = make_tables(prefix).meta
    version = connection.execute(
        select(meta.c.value).where(meta.c.name == "schema_version")
    ).scalar_one_or_none()
    return _LEGACY.get(str(version), f"schema version {version}")


def check(connection: Connection, prefix: str, target: str) -> None:
    """Refuse a database with no registry, or with one at another revision.

    Args:
        connection: a read transaction.
        prefix: the table prefix.
        target: the URL, password hidden, for messages.

    Raises:
        RegistryError: no registry, or a revision other than `HEAD`; the
            message says what to run.
    """
    found = revision_of(connection, prefix)
    if found is None:
        raise RegistryError(
            "no registry in this database: create it with `dissemination registry upgrade`",
            target=target,
        )
    legacy = f"{prefix}alembic_version" not in inspect(connection).get_table_names()
    if found == HEAD and not legacy:
        return
    scripts = ScriptDirectory.from_config(_config())
    if legacy or found in {script.revision for script in scripts.walk_revisions()}:
        advice = "run `dissemination registry upgrade`"
    else:
        advice = "it is newer than this release: upgrade dissemination"
    raise RegistryError(
        f"the registry is at schema revision {found}, this release needs {HEAD}: {advice}",
        target=target,
    )


def upgrade(
    url: str, *, keys: KeyRing, table_prefix: str = "registry_", now: dt.datetime | None = None
) -> Upgraded:
    """Create the registry, or migrate it to this release's schema (`HEAD`).

    One transaction: the tables (Alembic revisions), then on a new registry
    the key chain (each key's id and check value), or on an existing one a
    check that `keys` are its keys. A SQLite file is created with mode 0600
    and put in WAL mode; its folder must exist.

    Args:
        url: the database URL.
        keys: the blind-index keys (recorded on a new registry, checked on an old one).
        table_prefix: the prefix of the table names.
        now: when the keys are recorded (the clock when None).

    Returns:
        What was done.

    Raises:
        RegistryError: the database cannot be used, or is newer than this release.
        RegistryKeyError: `keys` are not the registry's keys.
    """
    shown = display_url(url)
    engine = open_engine(url, create=True)
    try:
        if engine.dialect.name == "sqlite":  # stored in the file: set once, outside a transaction
            raw = engine.raw_connection()
            try:
                raw.cursor().execute("PRAGMA journal_mode = WAL")
            finally:
                raw.close()

        def work(connection: Connection) -> Upgraded:
            advisory_lock(connection, table_prefix)
            before = revision_of(connection, table_prefix)
            known = {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}
            if before is not None and before not in known:
                raise RegistryError(
                    f"the registry is at schema revision {before}, which this release "
                    "does not know: upgrade dissemination",
                    target=shown,
                )
            config = _config(connection, table_prefix)
            if before is not None and f"{table_prefix}alembic_version" not in set(
                inspect(connection).get_table_names()
            ):
                command.stamp(config, before)  # made before migrations: take it as it is
            command.upgrade(config, "head")
            meta = make_tables(table_prefix).meta
            recorded = connection.execute(
                select(meta.c.value).where(meta.c.name == "keys")
            ).scalar_one_or_none()
            if recorded is None:
                moment = (now or dt.datetime.now(dt.UTC)).isoformat()
                chain = [{"id": key.id, "check": key.check, "added": moment} for key in keys]
                connection.execute(meta.insert().values(name="keys", value=json.dumps(chain)))
            else:
                entries = json.loads(recorded)
                chain_matches(keys, [(entry["id"], entry["check"]) for entry in entries])
            return Upgraded(before, HEAD, recorded is None)

        return run(engine, work, target=shown)
    finally:
        engine.dispose()
