"""Register on ingest, the blind index, the ownership life cycle, re-keying (issue 3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from dissemination import IdentifierError, RegistryError, RegistryKeyError
from dissemination.errors import RefusedError
from dissemination.identifiers import normalise_value
from dissemination.models import Owner
from dissemination.registry import Registry, parse_keys
from dissemination.registry.database import make_tables
from tests.registry.support import (
    ADMIN,
    AUDITOR,
    FIC,
    KEY_TEXT,
    KEYS,
    NEW_KEY_TEXT,
    NOW,
    container,
    item,
    reader,
)

CONTAINER = normalise_value("container", "MSCU1234566")
VEHICLE = normalise_value("vehicle", "AB12CDE")
NCA = Owner(organisation="nca", unit="Humber OCG team", contact="ocg.humber@example.gov.uk")


def _rows(database: tuple[str, str]) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every registry table, as the database holds it."""
    url, prefix = database
    engine = create_engine(url)
    tables = make_tables(prefix)
    try:
        with engine.connect() as connection:
            return {
                table.name: [tuple(row) for row in connection.execute(select(table))]
                for table in tables.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_first_registration_claims_the_later_ones_find_the_owner(registry: Registry) -> None:
    first = registry.register(item("IT-1", [container()]), now=NOW)
    assert [r.outcome for r in first] == ["new"]
    assert first[0].claim.owner.unit == "FIC Hull"
    assert first[0].claim.since == NOW
    assert first[0].items == ("IT-1",)

    later = NOW + dt.timedelta(hours=1)
    second = registry.register(
        item("IT-2", [container("mscu 123456-6")], owner="nca", unit="Hull OCG"), now=later
    )
    assert [r.outcome for r in second] == ["already_owned"]
    assert second[0].claim.owner.unit == "FIC Hull"
    assert second[0].claim.since == NOW
    assert second[0].claim.item_id == "IT-1"
    assert second[0].items == ("IT-1", "IT-2")


def test_registering_the_same_item_twice_changes_nothing(
    registry: Registry, database: tuple[str, str]
) -> None:
    registry.register(
        item("IT-1", [container(), {"type": "vehicle", "value": "AB12 CDE"}]), now=NOW
    )
    before = _rows(database)
    again = registry.register(
        item("IT-1", [container(), {"type": "vehicle", "value": "AB12 CDE"}]),
        now=NOW + dt.timedelta(days=1),
    )
    assert _rows(database) == before
    assert {r.outcome for r in again} == {"already_owned"}
    assert [r.subject for r in again] == ["s1", "s2"]


def test_an_item_naming_one_subject_twice_links_it_once(registry: Registry) -> None:
    results = registry.register(item("IT-1", [container(), container("MSCU 1234566")]), now=NOW)
    assert [r.outcome for r in results] == ["new", "new"]
    history = registry.history(CONTAINER, by=AUDITOR, now=NOW)
    assert history.items == ("IT-1",)
    assert [event.action for event in history.events] == ["link", "claim"]


def test_a_bad_identifier_fails_the_item_and_writes_nothing(
    registry: Registry, database: tuple[str, str]
) -> None:
    before = _rows(database)
    bad = item("IT-1", [container(), container("MSCU1234565")])
    with pytest.raises(IdentifierError) as caught:
        registry.register(bad, now=NOW)
    message = str(caught.value)
    assert message == (
        "item `IT-1`: `subjects.1` invalid `container` identifier: "
        "check digit does not match (ISO 6346)"
    )
    assert "MSCU" not in message
    assert _rows(database) == before


def test_the_database_holds_no_identifier(registry: Registry, database: tuple[str, str]) -> None:
    written = {
        "MSCU1234566": container(),
        "AB12CDE": {"type": "vehicle", "value": "AB12 CDE"},
        "7700900123": {"type": "phone", "value": "+44 7700 900123"},
        "9074729": {"type": "vessel", "value": "IMO 9074729"},
        "smuggler@example.com": {"type": "email", "value": "Smuggler@Example.com"},
        "QXJPERSON": {"type": "person", "name": "QXJPERSON Smith", "date_of_birth": "1980-02-29"},
        "1980-02-29": {"type": "other", "value": "placeholder"},
        "987654321": {"type": "passport", "country": "NLD", "value": "987654321"},
        "QXJORG": {"type": "organisation", "value": "QXJORG Freight Ltd"},
    }
    registry.register(item("IT-1", list(written.values())), now=NOW)
    registry.transfer(CONTAINER, NCA, now=NOW, by=FIC, reason="hand-off")
    text = repr(_rows(database))
    for needle in [*written, "QXJTITLE", "QXJTEARLINE", "QXJSOURCE", "qxjperson", "qxjorg"]:
        assert needle.lower() not in text.lower(), needle
    url, _ = database
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        raw = b"".join(
            file.read_bytes() for file in path.parent.iterdir() if file.name.startswith(path.name)
        )
        for needle in [*written, "QXJTITLE", "QXJTEARLINE"]:
            assert needle.encode() not in raw, needle
            assert needle.lower().encode() not in raw, needle


def test_a_new_version_of_an_item_updates_its_links(registry: Registry) -> None:
    registry.register(item("IT-1", [container(), {"type": "vehicle", "value": "AB12CDE"}]), now=NOW)
    registry.register(item("IT-1", [container()]), now=NOW + dt.timedelta(hours=1))
    assert registry.history(VEHICLE, by=AUDITOR, now=NOW).items == ()
    assert [event.action for event in registry.history(VEHICLE, by=AUDITOR, now=NOW).events] == [
        "link",
        "claim",
        "unlink",
    ]
    assert registry.history(CONTAINER, by=AUDITOR, now=NOW).items == ("IT-1",)


def test_transfer_changes_the_owner_and_keeps_the_history(registry: Registry) -> None:
    registry.register(item("IT-1", [container()]), now=NOW)
    later = NOW + dt.timedelta(days=2)
    claim = registry.transfer(CONTAINER, NCA, now=later, by=FIC, reason="LEA hand-off")
    assert claim.owner == NCA
    assert claim.since == later
    assert claim.item_id == "IT-1"
    history = registry.history(CONTAINER, by=AUDITOR, now=NOW)
    assert history.claim == claim
    assert [(e.action, e.actor, e.reason) for e in history.events] == [
        ("link", "ingest", None),
        ("claim", "ingest", None),
        ("transfer", "fic.hull", "LEA hand-off"),
    ]
    assert history.events[1].owner is not None
    assert history.events[1].owner.organisation == "border-force"
    assert history.events[2].owner == NCA
    assert history.events[2].at == later
    # A later item finds the new owner.
    found = registry.register(item("IT-2", [container()]), now=later)
    assert found[0].outcome == "already_owned"
    assert found[0].claim.owner == NCA


def test_release_leaves_the_subject_to_be_claimed_anew(registry: Registry) -> None:
    registry.register(item("IT-1", [container()]), now=NOW)
    registry.release(CONTAINER, now=NOW, by=FIC, reason="no further interest")
    history = registry.history(CONTAINER, by=AUDITOR, now=NOW)
    assert history.claim is None
    assert history.items == ("IT-1",)
    # An administrator learns there is no owner; anyone else is refused, owned or not.
    with pytest.raises(RegistryError, match="no live owner"):
        registry.release(CONTAINER, now=NOW, by=ADMIN, reason="again")
    with pytest.raises(RefusedError, match="release refused"):
        registry.release(CONTAINER, now=NOW, by=FIC, reason="again")
    later = NOW + dt.timedelta(hours=1)
    claimed = registry.register(item("IT-2", [container()], owner="nca", unit="OCG"), now=later)
    assert claimed[0].outcome == "new"
    assert claimed[0].claim.owner.organisation == "nca"
    assert [e.action for e in registry.history(CONTAINER, by=AUDITOR, now=NOW).events][-4:] == [
        "release",
        "refused",
        "link",
        "claim",
    ]


def test_a_claim_lapses_unless_renewed(database: tuple[str, str]) -> None:
    url, prefix = database
    period = dt.timedelta(days=30)
    with Registry(
        url, keys=KEYS, table_prefix=prefix, claim_period=period, upgrade=True
    ) as registry:
        first = registry.register(item("IT-1", [container()]), now=NOW)
        assert first[0].claim.expires == NOW + period
        renewed = registry.renew(CONTAINER, now=NOW + dt.timedelta(days=20), by=FIC)
        assert renewed.expires == NOW + dt.timedelta(days=50)
        # Still owned on day 40 thanks to the renewal.
        day_40 = registry.register(item("IT-2", [container()]), now=NOW + dt.timedelta(days=40))
        assert day_40[0].outcome == "already_owned"
        # Lapsed on day 60: the next item claims it anew.
        day_60 = NOW + dt.timedelta(days=60)
        with pytest.raises(RegistryError, match="no live owner"):
            registry.renew(CONTAINER, now=day_60, by=FIC)
        taken = registry.register(item("IT-3", [container()], owner="nca", unit="OCG"), now=day_60)
        assert taken[0].outcome == "new"
        assert taken[0].claim.owner.organisation == "nca"
        assert taken[0].claim.item_id == "IT-3"
        history = registry.history(CONTAINER, by=AUDITOR, now=NOW)
        actions = [event.action for event in history.events]
        assert actions[-2:] == ["lapse", "claim"]
        assert "renew" in actions


def test_rekey_wraps_every_digest_and_loses_nothing(
    registry: Registry, database: tuple[str, str]
) -> None:
    url, prefix = database
    registry.register(item("IT-1", [container(), {"type": "vehicle", "value": "AB12CDE"}]), now=NOW)
    registry.transfer(CONTAINER, NCA, now=NOW, by=FIC, reason="hand-off")
    before = registry.history(CONTAINER, by=AUDITOR, now=NOW)
    digests_before = {row[0] for row in _rows(database)[f"{prefix}claims"]}
    both = parse_keys(f"{KEY_TEXT}\n{NEW_KEY_TEXT}\n", source="<test>")
    assert registry.rekey(both, now=NOW) == ("k2",)
    digests_after = {row[0] for row in _rows(database)[f"{prefix}claims"]}
    assert len(digests_after) == 2
    assert digests_after.isdisjoint(digests_before)
    assert registry.history(CONTAINER, by=AUDITOR, now=NOW) == before
    assert registry.lookup(CONTAINER, reader(), now=NOW).found
    # The old key alone no longer opens the registry; both keys do.
    with pytest.raises(RegistryKeyError, match="keyed with `k1`, `k2`"):
        Registry(url, keys=KEYS, table_prefix=prefix)
    with Registry(url, keys=both, table_prefix=prefix) as reopened:
        assert reopened.history(VEHICLE, by=AUDITOR, now=NOW).items == ("IT-1",)
        with pytest.raises(RegistryKeyError, match="no new key"):
            reopened.rekey(both, now=NOW)


def test_a_wrong_key_is_refused_before_anything_is_read(
    registry: Registry, database: tuple[str, str]
) -> None:
    url, prefix = database
    registry.register(item("IT-1", [container()]), now=NOW)
    before = _rows(database)
    wrong = parse_keys("k1:" + "c" * 43, source="<wrong>")
    with pytest.raises(RegistryKeyError, match="key `k1` is not the key this registry"):
        Registry(url, keys=wrong, table_prefix=prefix)
    other_id = parse_keys("k9:" + "a" * 43, source="<other>")
    with pytest.raises(RegistryKeyError, match="keyed with `k1`"):
        Registry(url, keys=other_id, table_prefix=prefix)
    assert _rows(database) == before


def test_times_must_carry_a_zone(registry: Registry) -> None:
    with pytest.raises(ValueError, match="time zone"):
        registry.register(item("IT-1", [container()]), now=dt.datetime(2026, 1, 1))
