"""The life cycle against a small in-memory model: a hypothesis state machine (issue 12).

Registrations, transfers, renewals, releases, time passing (claims lapse) and
clocks running behind, in any order, on SQLite and PostgreSQL. After every
step each subject's claim in the registry is the model's, and replaying its
history gives that claim with no contradiction.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import create_engine

from dissemination.errors import RefusedError, RegistryError
from dissemination.identifiers import normalise_value
from dissemination.models import Owner, Principal
from dissemination.registry import Claim, Registry
from dissemination.registry.database import make_tables
from dissemination.registry.lifecycle import replay
from dissemination.registry.store import ClockBehindError
from tests.registry.support import ADMIN, AUDITOR, KEYS, NOW, item, reader

PERIOD = dt.timedelta(days=10)
TOLERANCE = dt.timedelta(seconds=2)
SUBJECTS = [normalise_value("vehicle", f"SM{index}") for index in range(3)]
ORGANISATIONS = ["org-a", "org-b", "org-c"]

subjects = st.integers(min_value=0, max_value=len(SUBJECTS) - 1)
organisations = st.sampled_from(ORGANISATIONS)


def _owner(organisation: str) -> Owner:
    return Owner(organisation=organisation, unit="u", contact="u@example.gov.uk")


@dataclass
class Target:
    """Where one example's registry lives, and how to clear it afterwards."""

    url: str
    prefix: str
    drop: Callable[[], None]


class LifeCycle(RuleBasedStateMachine):
    target: Callable[[], Target]

    def __init__(self) -> None:
        super().__init__()
        self.where = self.target()
        self.registry = Registry(
            self.where.url,
            keys=KEYS,
            table_prefix=self.where.prefix,
            claim_period=PERIOD,
            upgrade=True,
        )
        self.now = NOW
        self.model: dict[int, Claim | None] = dict.fromkeys(range(len(SUBJECTS)))
        self.last: dict[int, dt.datetime] = {}
        self.numbers = itertools.count()

    def teardown(self) -> None:
        self.registry.close()
        self.where.drop()

    def _live(self, subject: int, at: dt.datetime) -> Claim | None:
        claim = self.model[subject]
        return claim if claim is not None and claim.live(at) else None

    @rule(days=st.integers(min_value=0, max_value=12), seconds=st.integers(0, 5))
    def time_passes(self, days: int, seconds: int) -> None:
        self.now += dt.timedelta(days=days, seconds=seconds)

    @rule(subject=subjects, organisation=organisations)
    def register(self, subject: int, organisation: str) -> None:
        item_id = f"IT-{next(self.numbers)}"
        value = {"type": "vehicle", "value": SUBJECTS[subject].canonical}
        (registration,) = self.registry.register(
            item(item_id, [value], owner=organisation, unit="u"), now=self.now
        )
        if self._live(subject, self.now) is None:
            self.model[subject] = Claim(_owner(organisation), self.now, self.now + PERIOD, item_id)
            assert registration.outcome == "new"
        else:
            assert registration.outcome == "already_owned"
        assert registration.claim == self.model[subject]
        self.last[subject] = self.now

    def _no_owner(self, subject: int, change: Callable[[], object]) -> bool:
        if self._live(subject, self.now) is not None:
            return False
        with pytest.raises(RegistryError, match="no live owner"):
            change()
        return True

    @rule(subject=subjects, organisation=organisations)
    def transfer(self, subject: int, organisation: str) -> None:
        def change() -> Claim:
            return self.registry.transfer(
                SUBJECTS[subject], _owner(organisation), now=self.now, by=ADMIN, reason="r"
            )

        if self._no_owner(subject, change):
            return
        before = self.model[subject]
        assert before is not None
        assert before.expires is not None
        expires = max(before.expires, self.now + PERIOD)
        self.model[subject] = Claim(_owner(organisation), self.now, expires, before.item_id)
        assert change() == self.model[subject]
        self.last[subject] = self.now

    @rule(subject=subjects)
    def renew(self, subject: int) -> None:
        def change() -> Claim:
            by = self._owner_or_admin(subject)
            return self.registry.renew(SUBJECTS[subject], now=self.now, by=by)

        if self._no_owner(subject, change):
            return
        before = self.model[subject]
        assert before is not None
        assert before.expires is not None
        expires = max(before.expires, self.now + PERIOD)
        self.model[subject] = Claim(before.owner, before.since, expires, before.item_id)
        assert change() == self.model[subject]
        self.last[subject] = self.now

    @rule(subject=subjects)
    def release(self, subject: int) -> None:
        def change() -> None:
            self.registry.release(
                SUBJECTS[subject], now=self.now, by=self._owner_or_admin(subject), reason="r"
            )

        if self._no_owner(subject, change):
            return
        change()
        self.model[subject] = None
        self.last[subject] = self.now

    @rule(subject=subjects, hours=st.integers(min_value=1, max_value=48))
    def a_clock_behind_is_refused(self, subject: int, hours: int) -> None:
        behind = self.now - dt.timedelta(hours=hours)
        last = self.last.get(subject)
        if last is None or behind >= last - TOLERANCE:
            return
        with pytest.raises(ClockBehindError, match="earlier than the subject's last"):
            self.registry.renew(SUBJECTS[subject], now=behind, by=ADMIN)
        with pytest.raises(ClockBehindError):
            self.registry.release(SUBJECTS[subject], now=behind, by=ADMIN, reason="r")

    def _owner_or_admin(self, subject: int) -> Principal:
        """The owner's organisation when the subject is owned (it may act), else an admin."""
        claim = self._live(subject, self.now)
        if claim is None:
            return ADMIN
        return reader("owner-1", organisation=claim.owner.organisation)

    @rule(subject=subjects, operation=st.sampled_from(["transfer", "renew", "release", "history"]))
    def a_stranger_is_refused_and_recorded(self, subject: int, operation: str) -> None:
        stranger = reader("stranger-1", organisation="org-z", roles=("frontline-officer",))
        identifier = SUBJECTS[subject]
        attempts: dict[str, Callable[[], object]] = {
            "transfer": lambda: self.registry.transfer(
                identifier, _owner("org-z"), now=self.now, by=stranger, reason="r"
            ),
            "renew": lambda: self.registry.renew(identifier, now=self.now, by=stranger),
            "release": lambda: self.registry.release(
                identifier, now=self.now, by=stranger, reason="r"
            ),
            "history": lambda: self.registry.history(identifier, by=stranger, now=self.now),
        }
        with pytest.raises(RefusedError, match="refused"):
            attempts[operation]()
        last = self.registry.history(identifier, by=AUDITOR, now=self.now).events[-1]
        assert (last.action, last.actor) == ("refused", "stranger-1")
        self.last[subject] = max(self.now, self.last.get(subject, self.now))

    @invariant()
    def the_table_and_the_history_agree_with_the_model(self) -> None:
        for index, subject in enumerate(SUBJECTS):
            history = self.registry.history(subject, by=AUDITOR, now=self.now)
            assert history.claim == self.model[index]
            replayed = replay(history.events)
            assert replayed.contradictions == ()
            assert replayed.claim == history.claim


def test_the_life_cycle_follows_the_model(
    database: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    url, prefix = database

    def target() -> Target:
        if url.startswith("sqlite"):
            path = tmp_path_factory.mktemp("machine") / "registry.sqlite"
            return Target(f"sqlite:///{path}", "registry_", lambda: None)

        def clear() -> None:  # the fixture drops the tables at the end; rows go after each example
            tables = make_tables(prefix)
            engine = create_engine(url)
            try:
                with engine.begin() as connection:
                    for table in (tables.events, tables.links, tables.claims, tables.items):
                        connection.execute(table.delete())
            finally:
                engine.dispose()

        return Target(url, prefix, clear)

    LifeCycle.target = staticmethod(target)
    run_state_machine_as_test(
        LifeCycle,
        settings=settings(
            max_examples=20 if url.startswith("sqlite") else 10,  # PostgreSQL commits cost more
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
