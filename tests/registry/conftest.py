"""Registry fixtures: one registry per test, on SQLite and (when configured) PostgreSQL.

PostgreSQL tests read `DISSEMINATION_TEST_POSTGRES_URL` and skip with a reason
when it is unset. Each test gets its own table prefix and drops its tables
afterwards, so runs (and concurrent runs) never see each other's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from dissemination.registry import Registry
from dissemination.registry.database import make_tables
from tests.registry.support import KEYS, postgres_url, table_prefix


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A database URL and a table prefix nobody else uses; tables dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}", "registry_"
        return
    url, prefix = postgres_url(), table_prefix()
    yield url, prefix
    engine = create_engine(url)
    try:
        make_tables(prefix).metadata.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture
def registry(database: tuple[str, str]) -> Iterator[Registry]:
    url, prefix = database
    with Registry(url, keys=KEYS, table_prefix=prefix, upgrade=True) as opened:
        yield opened
