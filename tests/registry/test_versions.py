"""The registry keeps the newest label version per item (issue 13 found item 2, registry half).

Reported: nothing remembered which version of an item's label was newest, so
registering an older (signed) version replaced the newer label and links,
and a decision on the older one was made as if it were current.
"""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import create_engine, text

from dissemination import View, decide
from dissemination.decision import SUPERSEDED
from dissemination.identifiers import normalise_value
from dissemination.models import Item
from dissemination.registry import Registry, upgrade
from dissemination.registry.database import open_engine
from dissemination.registry.schema import HEAD, _config
from tests.registry.support import KEYS, NOW, container, item, reader

OLD_BOX = "MSCU1234566"
NEW_BOX = "CSQU3054383"
LATER = NOW + dt.timedelta(minutes=5)


def _version(of: Item, version: int) -> Item:
    return of.model_copy(update={"version": version})


V1 = _version(item("IT-1", [container(OLD_BOX)]), 1)
V2 = _version(item("IT-1", [container(NEW_BOX)], classification="SECRET"), 2)


def _views(registry: Registry, box: str) -> list[tuple[str, View, str | None]]:
    answer = registry.lookup(normalise_value("container", box), reader(level="DV"), now=LATER)
    return [(linked.item_id, linked.view, linked.classification) for linked in answer.items]


def test_an_older_version_registered_after_a_newer_one_stores_nothing(
    registry: Registry,
) -> None:
    assert registry.register(V2, now=NOW)[0].outcome == "new"
    assert registry.register(V1, now=LATER) == ()  # reported: no registration
    assert _views(registry, NEW_BOX) == [("IT-1", View.FULL, "SECRET")]
    assert _views(registry, OLD_BOX) == []  # v1's link was not made


def test_in_one_call_the_newest_wins_whatever_the_order(registry: Registry) -> None:
    done = registry.register_many([V2, V1], now=NOW)
    assert done[1] == ()
    assert _views(registry, NEW_BOX) == [("IT-1", View.FULL, "SECRET")]
    assert _views(registry, OLD_BOX) == []


def test_a_newer_version_replaces_an_older_one(registry: Registry) -> None:
    registry.register(V1, now=NOW)
    assert registry.register(V2, now=LATER)[0].outcome == "new"
    assert _views(registry, NEW_BOX) == [("IT-1", View.FULL, "SECRET")]
    assert _views(registry, OLD_BOX) == []
    again = registry.register(V2, now=LATER)  # the same version again is not refused
    assert again[0].outcome == "already_owned"


def test_a_decision_on_an_older_version_is_none_with_the_registry_check(
    registry: Registry,
) -> None:
    who = reader(level="DV")
    assert not registry.superseded(V1)  # never registered: not superseded
    registry.register(V2, now=NOW)
    assert registry.superseded(V1)
    assert not registry.superseded(V2)
    assert not registry.superseded(_version(V2, 3))
    replay = decide(who, V1, now=LATER, superseded=registry.superseded)
    assert replay.view is View.NONE
    assert replay.reasons == (SUPERSEDED,)
    assert decide(who, V2, now=LATER, superseded=registry.superseded).view is View.FULL


def test_a_registry_at_revision_0002_is_upgraded_keeping_its_items(
    database: tuple[str, str],
) -> None:
    url, prefix = database
    engine = open_engine(url, create=True)
    with engine.begin() as connection:  # the tables as revision 0002 made them
        command.upgrade(_config(connection, prefix), "0002")
    engine.dispose()
    upgrade(url, keys=KEYS, table_prefix=prefix)  # records the key chain: a 0002 registry has one
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'ALTER TABLE "{prefix}items" DROP COLUMN version'))
        connection.execute(
            text(f"UPDATE \"{prefix}alembic_version\" SET version_num = '0002'")  # noqa: S608
        )
        connection.execute(
            text(
                f'INSERT INTO "{prefix}items" '  # noqa: S608
                "(item_id, label, label_verified, registered, updated) "
                "VALUES ('IT-9', 'sealed', 0, :at, :at)"
            ),
            {"at": NOW.replace(tzinfo=None)},
        )
    engine.dispose()
    done = upgrade(url, keys=KEYS, table_prefix=prefix)
    assert (done.before, done.after, done.created) == ("0002", HEAD, False)
    assert HEAD == "0003"
    engine = create_engine(url)
    with engine.connect() as connection:
        query = text(f'SELECT item_id, version FROM "{prefix}items"')  # noqa: S608
        rows = [tuple(row) for row in connection.execute(query)]
    engine.dispose()
    assert rows == [("IT-9", 1)]  # registered before versions: version 1
    again = upgrade(url, keys=KEYS, table_prefix=prefix)
    assert (again.before, again.after) == (HEAD, HEAD)
    with Registry(url, keys=KEYS, table_prefix=prefix) as registry:
        registry.register(V2, now=NOW)
        assert registry.superseded(V1)
