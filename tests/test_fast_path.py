"""The fast path decides exactly as plain casbin and the step-by-step reference do.

`decide` finds facts as bits from kept per-item and per-reader plans and keeps
casbin's answer per set of facts (`dissemination.compiled`). Nothing it keeps
may change a decision:

- over the reachable fact space (`tooling.factspace`, projected on the facts
  the default policy's rows name), the fast path derives each point's facts
  for a reader and item that should give them, and its view is the one plain,
  uncached casbin enforcement gives for them. Every point whose view casbin
  could leave above `none` is checked; of the points a `none` cap forces
  (label facts, recipients and eyes only), one in 100, unless
  `DISSEMINATION_EXHAUSTIVE=1` (CI), which checks every point;
- for generated readers, items and times, `decide` equals the reference
  (`decide_reference`, no plans, no kept answers) field for field, asked
  repeatedly and in any order;
- caches belong to one policy: a changed policy file gives new decisions.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dissemination import Item, Policy, Principal, decide, load_policy
from dissemination.decision import _outcome
from dissemination.policy import DEFAULT_POLICY_DIR
from dissemination.tooling.factspace import FactSpace
from dissemination.vocabulary import View
from tests.oracle import decide_reference
from tests.strategies import NOW, item_doc, items, moments, principals, reader_doc

EXHAUSTIVE = os.environ.get("DISSEMINATION_EXHAUSTIVE") == "1"
SHARDS = 8
NONE_FACTS = frozenset(
    {
        "label.invalid",
        "label.unknown_handling",
        "label.integrity_failed",
        "reader.invalid",
        "handling.recipients_only.unlisted",
        "handling.eyes_only.unlisted",
    }
)


def _space(policy: Policy) -> FactSpace:
    relevant = frozenset().union(*(row.needed | row.forbidden for row in policy.view_rows))
    return FactSpace(policy.vocabulary, relevant=relevant, settings=policy.settings)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_fact_space_fast_path_matches_plain_casbin(shard: int) -> None:
    policy = Policy(DEFAULT_POLICY_DIR)  # a fresh policy: every cache starts cold
    space = _space(policy)
    relevant = space.relevant
    assert relevant is not None
    checked = 0
    for number, point in enumerate(space.points()):
        # The last five dimensions are the `none` caps, so `number // 32` spreads
        # the points that casbin may leave above `none` evenly over the shards.
        if (number // 32) % SHARDS != shard:
            continue
        if not EXHAUSTIVE and point.facts & NONE_FACTS and number % 100 != shard:
            continue
        witness = space.witness(point)
        if witness.reachable:
            decision = decide(
                witness.reader,
                witness.item,
                now=witness.now,
                policy=policy,
                label_check=witness.label_check,
            )
            assert decision.facts & relevant == point.facts, point
            fast = decision.view
        else:  # only under other settings: the kept answer for the facts themselves
            facts = policy.compiled.facts
            fast = _outcome(policy, facts.of(point.facts)).view
        assert fast == policy.engine.decide_view_uncached(point.facts), point
        checked += 1
    assert checked > 400


def test_content_rows_match_plain_casbin() -> None:
    policy = Policy(DEFAULT_POLICY_DIR)
    categories = policy.vocabulary.portion_categories
    for view in (View.GIST, View.SANITISED, View.FULL):
        for category in categories:
            for requested in (False, True):
                facts = {f"category.{category}"} | (
                    {"category.sanitise_requested"} if requested else set()
                )
                key = frozenset(facts)
                enforced = bool(
                    policy.engine._enforcer.enforce(policy.engine._content, view.label, key)
                )
                assert policy.engine.shows(view, key) is enforced


FAST = settings(max_examples=200, deadline=None)


@FAST
@given(
    st.lists(principals(), min_size=1, max_size=3),
    st.lists(items(), min_size=1, max_size=4),
    moments,
)
def test_decide_equals_the_reference(
    readers: list[Principal], batch: list[Item], now: dt.datetime
) -> None:
    policy = load_policy()
    for _round in range(2):  # the second round answers from what the first kept
        for reader in readers:
            for item in batch:
                fast = decide(reader, item, now=now, policy=policy)
                assert fast == decide_reference(reader, item, now=now, policy=policy)


@FAST
@given(principals(), items(), st.sampled_from([dt.timedelta(0), dt.timedelta(days=400)]))
def test_kept_decisions_follow_the_day(reader: Principal, item: Item, later: dt.timedelta) -> None:
    policy = load_policy()
    decide(reader, item, now=NOW, policy=policy)
    moment = NOW + later  # vetting may have expired, an embargo may have ended
    assert decide(reader, item, now=moment, policy=policy) == decide_reference(
        reader, item, now=moment, policy=policy
    )


def test_signed_label_profile_is_never_answered_from_kept_decisions(tmp_path: Path) -> None:
    directory = tmp_path / "signed"
    shutil.copytree(DEFAULT_POLICY_DIR, directory)
    profile = directory / "profile.yaml"
    profile.write_text(
        profile.read_text(encoding="utf-8").replace(
            "require_signed_labels: false", "require_signed_labels: true"
        ),
        encoding="utf-8",
    )
    policy = load_policy(directory)
    reader, item = _reader_and_item()
    verdicts = iter([True, False, True])

    def check(_item: Item) -> bool:
        return next(verdicts)

    views = [decide(reader, item, now=NOW, policy=policy, label_check=check).view for _ in range(3)]
    assert views[0] > View.NONE
    assert views[1] is View.NONE
    assert views[2] == views[0]


def test_a_changed_policy_has_its_own_caches(tmp_path: Path) -> None:
    reader, item = _reader_and_item()
    before = load_policy()
    assert decide(reader, item, now=NOW, policy=before).view is View.FULL
    directory = tmp_path / "edited"
    shutil.copytree(DEFAULT_POLICY_DIR, directory)
    rows = directory / "policy.csv"
    rows.write_text(
        rows.read_text(encoding="utf-8").replace(
            "p, base.full, vetting.meets_required, full, -, allow",
            "p, base.full, vetting.meets_required & vetting.at_least.eDV, full, -, allow",
        ),
        encoding="utf-8",
    )
    after = load_policy(directory)
    assert after.compiled is not before.compiled
    assert decide(reader, item, now=NOW, policy=after).view is View.GIST
    assert decide(reader, item, now=NOW, policy=before).view is View.FULL


def test_plans_do_not_outlive_their_items() -> None:
    policy = Policy(DEFAULT_POLICY_DIR)
    reader, item = _reader_and_item()
    for number in range(50):
        copy = item.model_copy(update={"id": f"ITEM-{number}"})
        decide(reader, copy, now=NOW, policy=policy)
    del copy
    gc.collect()
    assert len(policy.compiled._items) == 0


def _reader_and_item() -> tuple[Principal, Item]:
    from dissemination import parse_item, parse_principal

    reader = parse_principal(reader_doc())
    item = parse_item(
        item_doc(
            classification="OFFICIAL-SENSITIVE",
            required_vetting="SC",
            portions=[
                {"id": "p1", "category": "tearline", "text": "Stop and examine."},
                {"id": "p2", "category": "narrative", "text": "More."},
            ],
        )
    )
    return reader, item
