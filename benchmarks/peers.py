"""One simple rule, written for every engine: the yardstick and the peer rows (issue 14 (f)).

The rule: a reader may read an item when their vetting rank is at least the
rank the item requires, and their organisation is the originator's or one the
item is releasable to. Every engine gets the same generated requests, each in
its own native form built before the clock starts, and each engine's answers
are checked against the hand-written reference on every request; an engine
that disagrees is reported as such, and one that cannot be installed here
(`pip install -e '.[bench]'`) is reported as unavailable, never faked.

dissemination decides the same rule through the default profile: a
crown-servant reader with current vetting, an item whose only handling is
`releasable_to` and whose one portion is a narrative (no tearline), gets
`full` exactly when the rule allows, and `pointer` otherwise.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.corpus import LEVELS, ORGANISATIONS
from benchmarks.timing import median_us

CASBIN_MODEL = """
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && r.sub.rank >= r.obj.required \
&& (r.sub.org == r.obj.originator || r.sub.org in r.obj.releasable)
"""
"""An ordinary casbin ABAC model: one matcher over the request's attributes."""

CEDAR_POLICY = """
permit (principal, action == Action::"read", resource)
when {
  principal.rank >= resource.required &&
  (principal.org == resource.originator || resource.releasable.contains(principal.org))
};
"""


@dataclass(frozen=True, slots=True)
class Request:
    """One generated request: the attributes every engine decides on."""

    number: int
    rank: int
    org: str
    required: int
    originator: str
    releasable: tuple[str, ...]


def requests(count: int, seed: int = 14) -> list[Request]:
    """`count` requests, about half allowed, the same for the same seed."""
    rng = random.Random(seed)
    made = []
    for number in range(count):
        made.append(
            Request(
                number=number,
                rank=rng.randrange(len(LEVELS)),
                org=rng.choice(ORGANISATIONS),
                required=rng.randrange(len(LEVELS)),
                originator=rng.choice(ORGANISATIONS),
                releasable=tuple(rng.sample(ORGANISATIONS, rng.randint(1, 3))),
            )
        )
    return made


class Facts:
    """The minimal request the hand-written rule reads (plain attributes, slots)."""

    __slots__ = ("org", "originator", "rank", "releasable", "required")

    def __init__(self, request: Request) -> None:
        self.rank = request.rank
        self.org = request.org
        self.required = request.required
        self.originator = request.originator
        self.releasable = frozenset(request.releasable)


def simple_rule(facts: Facts) -> bool:
    """The rule by hand: the yardstick every row of the run is divided by."""
    return facts.rank >= facts.required and (
        facts.org == facts.originator or facts.org in facts.releasable
    )


def reference(request: Request) -> bool:
    """The rule, written plainly, that every engine's answers are checked against."""
    if request.rank < request.required:
        return False
    return request.org == request.originator or request.org in request.releasable


# -- dissemination's form: a reader and an item document --------------------------------------


def reader_document(request: Request) -> dict[str, Any]:
    """The request's reader as a principal document."""
    return {
        "id": f"simple-reader-{request.number:07d}",
        "organisation": request.org,
        "employment": "crown-servant",
        "nationality": "GBR",
        "vetting": {"level": LEVELS[request.rank]},
    }


def item_document(request: Request, tag: str = "") -> dict[str, Any]:
    """The request's item as an item document (distinct id and text per request and tag)."""
    unit = "FIC Hull"
    return {
        "id": f"SIM{tag}-{request.number:07d}",
        "title": f"Simple item {tag}{request.number}",
        "created": "2026-11-20T09:14:00Z",
        "classification": "OFFICIAL",
        "required_vetting": LEVELS[request.required],
        "originator": {"organisation": request.originator, "unit": unit},
        "owner": {"organisation": request.originator, "unit": unit, "contact": "fic@example.org"},
        "handling": [{"kind": "releasable_to", "organisations": list(request.releasable)}],
        "portions": [
            {"id": "p1", "category": "narrative", "text": f"Narrative {tag}{request.number}."}
        ],
    }


# -- the peers ---------------------------------------------------------------------------------


@dataclass
class Peer:
    """A peer engine's row: its answer function over prepared requests, or why it has none."""

    key: str
    label: str
    prepare: Callable[[Request], Any] | None
    decide: Callable[[Any], bool] | None
    unavailable: str | None = None


def _casbin() -> Peer:
    import casbin  # noqa: PLC0415 (a dependency of the package; imported here to keep it local)

    model = casbin.model.Model()
    model.load_model_from_text(CASBIN_MODEL)
    enforcer = casbin.Enforcer(model)
    enforcer.add_policy("reader", "item", "read")

    class Sub:
        __slots__ = ("org", "rank")

        def __init__(self, request: Request) -> None:
            self.rank, self.org = request.rank, request.org

    class Obj:
        __slots__ = ("originator", "releasable", "required")

        def __init__(self, request: Request) -> None:
            self.required = request.required
            self.originator = request.originator
            self.releasable = request.releasable

    enforce = enforcer.enforce
    return Peer(
        "peer_casbin_abac",
        "casbin, ABAC matcher (one row)",
        lambda request: (Sub(request), Obj(request)),
        lambda prepared: bool(enforce(prepared[0], prepared[1], "read")),
    )


def _vakt() -> Peer:
    try:
        import vakt  # noqa: PLC0415 (optional: the `bench` extra)
        from vakt.rules import Any as AnyValue  # noqa: PLC0415
        from vakt.rules import Eq  # noqa: PLC0415
        from vakt.rules.base import Rule  # noqa: PLC0415
    except ImportError as exc:
        return Peer("peer_vakt", "vakt", None, None, f"not installed ({exc.name})")

    class Cleared(Rule):  # type: ignore[misc]
        """The reader's rank is at least the item's required rank."""

        def satisfied(self, what: Any, inquiry: Any = None) -> bool:
            return inquiry is not None and inquiry.subject["rank"] >= what

    class Releasable(Rule):  # type: ignore[misc]
        """The reader's organisation is the originator's or one the item is releasable to."""

        def satisfied(self, what: Any, inquiry: Any = None) -> bool:
            org = inquiry.subject["org"]
            return bool(org == what["originator"] or org in what["releasable"])

    storage = vakt.MemoryStorage()
    storage.add(
        vakt.Policy(
            "simple",
            actions=[Eq("read")],
            resources=[{"required": Cleared(), "release": Releasable()}],
            subjects=[AnyValue()],
            effect=vakt.ALLOW_ACCESS,
        )
    )
    guard = vakt.Guard(storage, vakt.RulesChecker())

    def prepare(request: Request) -> Any:
        return vakt.Inquiry(
            action="read",
            subject={"rank": request.rank, "org": request.org},
            resource={
                "required": request.required,
                "release": {"originator": request.originator, "releasable": request.releasable},
            },
        )

    return Peer("peer_vakt", "vakt (custom rules, memory storage)", prepare, guard.is_allowed)


def _cedar() -> Peer:
    try:
        import cedarpy  # noqa: PLC0415 (optional: the `bench` extra)
    except ImportError as exc:
        return Peer("peer_cedarpy", "cedarpy", None, None, f"not installed ({exc.name})")
    policy_set = getattr(cedarpy, "PolicySet", None)  # older releases take the text each call
    policies = CEDAR_POLICY if policy_set is None else policy_set.from_str(CEDAR_POLICY)
    label = (
        "cedarpy (policies re-parsed per call)"
        if policy_set is None
        else "cedarpy (policy set parsed once)"
    )
    query = {
        "principal": 'Reader::"r"',
        "action": 'Action::"read"',
        "resource": 'Item::"i"',
        "context": {},
    }

    def prepare(request: Request) -> Any:
        return [
            {
                "uid": {"type": "Reader", "id": "r"},
                "attrs": {"rank": request.rank, "org": request.org},
                "parents": [],
            },
            {
                "uid": {"type": "Item", "id": "i"},
                "attrs": {
                    "required": request.required,
                    "originator": request.originator,
                    "releasable": list(request.releasable),
                },
                "parents": [],
            },
        ]

    def decide(entities: Any) -> bool:
        return bool(cedarpy.is_authorized(query, policies, entities).allowed)

    return Peer("peer_cedarpy", label, prepare, decide)


def _regorus() -> Peer:
    try:
        import regorus  # noqa: PLC0415 (optional: the `bench` extra)
    except ImportError as exc:
        return Peer("peer_regorus", "regorus (Rego)", None, None, f"not installed ({exc.name})")
    engine = regorus.Engine()
    engine.add_policy(
        "simple.rego",
        "package simple\n"
        "default allow := false\n"
        "allow if {\n"
        "  input.rank >= input.required\n"
        "  releasable\n"
        "}\n"
        "releasable if input.org == input.originator\n"
        "releasable if input.org in input.releasable\n",
    )

    def prepare(request: Request) -> Any:
        return {
            "rank": request.rank,
            "org": request.org,
            "required": request.required,
            "originator": request.originator,
            "releasable": list(request.releasable),
        }

    def decide(data: Any) -> bool:
        engine.set_input(data)
        return bool(engine.eval_rule("data.simple.allow"))

    return Peer("peer_regorus", "regorus (Rego)", prepare, decide)


def peers() -> list[Peer]:
    """Every peer engine, available or not."""
    return [_vakt(), _regorus(), _cedar(), _casbin()]


def time_peer(peer: Peer, made: list[Request], repeats: int) -> dict[str, Any]:
    """The peer's median µs per decision over `made`, and whether it agreed with the reference."""
    if peer.prepare is None or peer.decide is None:
        return {"label": peer.label, "unavailable": peer.unavailable}
    prepared = [peer.prepare(request) for request in made]
    decide = peer.decide
    answers = [decide(one) for one in prepared]
    disagree = sum(
        answer != reference(request) for answer, request in zip(answers, made, strict=True)
    )

    def run() -> None:
        for one in prepared:
            decide(one)

    us, samples = median_us(run, len(prepared), repeats)
    return {
        "label": peer.label,
        "us_per_op": us,
        "samples": samples,
        "checked": len(made),
        "disagreements": disagree,
    }
