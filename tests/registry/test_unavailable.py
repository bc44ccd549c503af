"""Lost connections are retried; a database that stays away is one line, exit 3 (issue 12).

The test terminates its own backends (`pg_terminate_backend`), as a restart
or failover would: inside a transaction (the work runs again on a new
connection), and between operations (the pool tests its connections first).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from dissemination.errors import UnavailableError
from dissemination.identifiers import normalise_value
from dissemination.registry import Registry
from dissemination.registry.database import make_tables
from tests.registry.support import AUDITOR, FIC, KEYS, NOW, container, item, postgres_url, reader
from tests.registry.support import table_prefix as new_prefix

CONTAINER = normalise_value("container", "MSCU1234566")


@pytest.fixture
def postgres_registry() -> Iterator[tuple[Registry, str]]:
    url, prefix = postgres_url(), new_prefix()
    with Registry(url, keys=KEYS, table_prefix=prefix, upgrade=True) as registry:
        yield registry, url
    engine = create_engine(url)
    try:
        make_tables(prefix).metadata.drop_all(engine)
    finally:
        engine.dispose()


def _terminate_registry_backends(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = 'dissemination-registry' "
                        "AND datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_backend_killed_mid_transaction_is_retried(
    postgres_registry: tuple[Registry, str],
) -> None:
    registry, _ = postgres_registry
    attempts: list[int] = []

    def work(connection: Connection) -> int:
        attempts.append(1)
        if len(attempts) == 1:  # the first try loses its backend half way through
            connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return int(connection.execute(text("SELECT 1")).scalar_one())

    assert registry._store.run(work) == 1
    assert len(attempts) == 2


@pytest.mark.postgres
def test_operations_survive_their_backends_being_terminated(
    postgres_registry: tuple[Registry, str],
) -> None:
    registry, url = postgres_registry
    registry.register(item("IT-1", [container()]), now=NOW)
    for round_ in range(3):
        assert _terminate_registry_backends(url) >= 1  # the pool's idle connection
        assert registry.lookup(CONTAINER, reader(), now=NOW).claim is not None
        assert _terminate_registry_backends(url) >= 1
        registry.renew(CONTAINER, now=NOW, by=FIC, reason=f"round {round_}")
    actions = [event.action for event in registry.history(CONTAINER, by=AUDITOR, now=NOW).events]
    assert actions == ["link", "claim", "renew", "renew", "renew"]  # nothing lost or doubled


def test_a_database_that_stays_away_is_unavailable_in_one_line() -> None:
    with pytest.raises(UnavailableError) as caught:
        Registry("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", keys=KEYS)
    message = str(caught.value)
    assert "the database is unavailable after 5 attempts" in message
    assert "secret" not in message
    assert "\n" not in message
