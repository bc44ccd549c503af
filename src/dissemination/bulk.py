"""Bulk dissemination: a stream of rendered views for one reader.

Items the reader sees at `none` vanish without trace: no placeholder, no count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from dissemination.decision import Decision, LabelCheck, decide
from dissemination.models import Item, Principal
from dissemination.policy import Policy, default_policy
from dissemination.redaction import render
from dissemination.vocabulary import View

__all__ = ["filter_items"]


def filter_items(
    principal: Principal,
    items: Iterable[Item],
    *,
    now: dt.datetime,
    policy: Policy | None = None,
    label_check: LabelCheck | None = None,
    record: Callable[[Item, Decision], object] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the rendered view of each item the reader may know of, lazily.

    One item is decided and rendered at a time, so an iterator of items (for
    example `iter_items` over a JSON Lines file) streams in constant memory.

    Args:
        principal: the reader.
        items: the items, in any iterable.
        now: the time of the decisions, with a time zone.
        policy: the profile (the embedded default when None).
        label_check: see `decide`.
        record: called with each item and its decision before its view is
            yielded (the disclosure trail's `DisclosureTrail.record`); if it
            raises, nothing more is yielded.

    Yields:
        The document `render` makes, for every item not at `none`.
    """
    policy = policy if policy is not None else default_policy()
    for item in items:
        decision = decide(principal, item, now=now, policy=policy, label_check=label_check)
        if decision.view is not View.NONE:
            if record is not None:
                record(item, decision)
            yield render(item, decision)
