"""What a running service holds: the active policy, swapped whole, and what decides with it.

The active policy is one immutable `Active` value (the policy, its digest and
its revision). A request reads it once, at its start, and decides every
evaluation it carries with that value, so a response never mixes two
revisions and always names the one that decided it. A swap is one attribute
assignment: atomic for every reader, in any thread.

A new policy is activated only when it verified and loaded; on failure the
last good one stays active and the failure is kept for `/readyz` and the log.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dissemination.decision import Decision, LabelCheck, decide
from dissemination.errors import DisseminationError
from dissemination.models import Item, Principal
from dissemination.policy import Policy
from dissemination.service.protocol import parse_time

if TYPE_CHECKING:
    from dissemination.audit import DisclosureTrail

__all__ = ["Active", "PolicySlot", "ServiceState"]

LOG = logging.getLogger("dissemination.service")


@dataclass(frozen=True, slots=True)
class Active:
    """The policy a node decides by.

    Attributes:
        policy: the loaded profile.
        revision: the bundle's revision, or `local` for a profile read from a directory.
        source: where it came from (a directory, a bundle file, a database).
        created: when a bundle's manifest says it was signed (`YYYY-MM-DDTHH:MM:SSZ`),
            None for a profile read from a directory.
    """

    policy: Policy
    revision: str
    source: str
    created: str | None = None

    @property
    def names(self) -> dict[str, str]:
        """`{"digest": ..., "revision": ...}`: what every decision names."""
        return {"digest": self.policy.digest, "revision": self.revision}


class PolicySlot:
    """The active policy and the last failure to replace it."""

    def __init__(self, active: Active | None = None) -> None:
        """Start with `active` (None: not ready until a policy is activated)."""
        self.active = active
        self.problem: str | None = None
        self._lock = threading.Lock()

    def activate(self, load: Callable[[], Active], *, source: str) -> bool:
        """Load a policy and make it active, or keep the last good one.

        Args:
            load: builds the new `Active`; raises a `DisseminationError` when
                the policy does not verify or load.
            source: names the attempt in the log.

        Returns:
            True when the new policy is active.
        """
        with self._lock:  # one activation at a time; readers never wait
            try:
                candidate = load()
            except DisseminationError as exc:
                kept = self.active.revision if self.active is not None else "none"
                self.problem = f"{exc} (kept revision `{kept}`)"
                LOG.error("policy not activated from %s: %s", source, self.problem)  # noqa: TRY400 (one line in the log, no traceback)
                return False
            except Exception as exc:  # noqa: BLE001 (fail closed: whatever broke, the last good one stays)
                kept = self.active.revision if self.active is not None else "none"
                self.problem = (
                    f"{source}: cannot be used ({type(exc).__name__}) (kept revision `{kept}`)"
                )
                LOG.error("policy not activated from %s: %s", source, self.problem)  # noqa: TRY400 (one line in the log, no traceback)
                return False
            previous = self.active
            if (
                previous is not None
                and _stamp(previous.created) is not None
                and _stamp(candidate.created) is not None
                and str(candidate.created) < str(previous.created)
            ):
                # A replayed older bundle (its signature still good) would roll the
                # policy back: whoever can write the file or the table could undo a
                # reviewed tightening. To go back, the security team signs anew.
                self.problem = (
                    f"{source}: signed before the active revision `{previous.revision}`"
                    f" (kept revision `{previous.revision}`)"
                )
                LOG.error("policy not activated from %s: %s", source, self.problem)
                return False
            if (
                previous is not None
                and previous.revision == candidate.revision
                and previous.policy.digest == candidate.policy.digest
            ):
                self.problem = None
                return False
            self.active = candidate
            self.problem = None
            LOG.warning(
                "policy revision `%s` (%s) active, from %s",
                candidate.revision,
                candidate.policy.digest,
                source,
            )
            return True


_CREATED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _stamp(created: str | None) -> str | None:
    """A manifest's `created` when it is in the one form `make_bundle` writes (sortable)."""
    return created if created is not None and _CREATED.fullmatch(created) else None


@dataclass
class ServiceState:
    """Everything a request needs beyond its own body.

    Attributes:
        slot: the active policy.
        label_check: verifies signed labels (profiles that require them).
        trail: the disclosure trail, or None.
        clock: the time of a decision without `context.time`.
        max_skew: how far from the clock `context.time` may be (None: any time).
    """

    slot: PolicySlot
    label_check: LabelCheck | None = None
    trail: DisclosureTrail | None = None
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    max_skew: dt.timedelta | None = None

    def time(self, value: Any, *, field: str) -> dt.datetime:
        """The time of a decision from `context.time` (see `protocol.parse_time`)."""
        return parse_time(value, field=field, clock=self.clock, max_skew=self.max_skew)

    def decide(
        self, active: Active, principal: Principal, item: Item, now: dt.datetime
    ) -> Decision:
        """Decide with the given active policy (read once per request)."""
        return decide(principal, item, now=now, policy=active.policy, label_check=self.label_check)

    def record(self, item: Item, decision: Decision, decision_id: str) -> None:
        """Record a disclosure in the trail, before it is answered (none: nothing).

        Raises:
            TrailError: the trail cannot be written: answer nothing.
        """
        if self.trail is not None:
            self.trail.record(item, decision, decision_id=decision_id)
