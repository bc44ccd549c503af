"""The AuthZEN 1.0 envelope: reading requests and writing answers (pure, no HTTP).

An AuthZEN request names a `subject`, a `resource`, an `action` and a
`context`. Here the subject is the reader (a principal document, or a name the
deployment resolves), the resource an item (its document in `properties`),
the action the view asked for, and the context the time of the decision.

Transport rules (AuthZEN §10, and the issue that asked for this service):

- unknown fields of the envelope are ignored, as the specification requires;
- the principal and item documents are validated strictly, and a bad one is
  a `RequestError` (400) that names the field, never its value;
- a denial is an answer (`decision: false`), never an error.

Nothing here touches the network, the clock or the trail: `ServiceState`
decides, the application carries the bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from dissemination.decision import Decision
from dissemination.errors import DocumentError, InputError
from dissemination.models import Item
from dissemination.redaction import shown_conditions
from dissemination.vocabulary import View

__all__ = [
    "ACTIONS",
    "SEMANTICS",
    "Envelope",
    "RequestError",
    "action_view",
    "check_parts",
    "decision_context",
    "document_problem",
    "envelope_of",
    "merge_defaults",
    "none_context",
    "parse_time",
]

ACTIONS: Mapping[str, View] = {
    "view:full": View.FULL,
    "view:sanitised": View.SANITISED,
    "view:gist": View.GIST,
    "view:pointer": View.POINTER,
    "know_of": View.POINTER,
}
"""The action names and the least view each asks for (`know_of`: to learn the item exists)."""

SEMANTICS = ("execute_all", "deny_on_first_deny", "permit_on_first_permit")
"""The batch semantics of AuthZEN §7.1.2, `execute_all` the default."""

_PROBLEMS = {
    "missing": "is required",
    "extra_forbidden": "is not a field of the contract",
    "union_tag_invalid": "names a kind the profile does not know",
    "union_tag_not_found": "lacks its `kind`",
}


class RequestError(Exception):
    """A request the service cannot answer: a status, a kind and one line of words.

    The message names fields, never values: it goes back to the caller and
    into the logs.

    Attributes:
        status: the HTTP status (400, 401, 404, 413, 503...).
        kind: a short machine name (`bad_request`, `unauthenticated`...).
        message: one lowercase line.
    """

    def __init__(self, status: int, kind: str, message: str) -> None:
        """Create the error."""
        self.status = status
        self.kind = kind
        self.message = message
        super().__init__(message)


def _fixed_words(exc: DocumentError) -> str:
    """Our own words for the kind of problem (the library's can name a short value)."""
    cause = exc.__cause__
    if isinstance(cause, PydanticValidationError):
        errors = cause.errors(include_url=False, include_input=False)
        return _PROBLEMS.get(str(errors[0]["type"]) if errors else "", "is not valid")
    words = exc.problem.lower()
    for start, kind in (
        ("field required", "missing"),
        ("unknown field", "extra_forbidden"),
        ("extra inputs", "extra_forbidden"),
    ):
        if words.startswith(start):
            return _PROBLEMS[kind]
    return "is not valid"


def document_problem(where: str, exc: InputError) -> RequestError:
    """The 400 for a principal or item document that breaks the contract.

    Only the field's path and a fixed description of the kind of problem are
    kept: pydantic's own words can quote the value, so they are not used.

    Args:
        where: the envelope field the document came in (`subject.properties`).
        exc: the library's error for it.

    Returns:
        The error to answer with.
    """
    if isinstance(exc, DocumentError):
        problem = _fixed_words(exc)
        if not exc.field:
            return RequestError(400, "bad_request", f"`{where}` is not a {exc.document} document")
        return RequestError(400, "bad_request", f"`{where}.{exc.field}` {problem}")
    return RequestError(400, "bad_request", f"`{where}` is not valid")


def parse_time(
    value: Any,
    *,
    field: str,
    clock: Callable[[], dt.datetime],
    max_skew: dt.timedelta | None = None,
) -> dt.datetime:
    """The time of a decision: `context.time` (ISO 8601 with a zone) or the clock.

    Args:
        value: `context.time` as sent (None: the clock).
        field: its place in the request, for messages.
        clock: the server's clock.
        max_skew: how far from the clock a sent time may be (None: any time).

    Raises:
        RequestError: the time is not ISO 8601 with a zone, or further from
            the clock than `max_skew`.
    """
    if value is None:
        return clock()
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.utcoffset() is not None:
            try:  # an offset that carries the time out of the calendar (year 1 at +14:00)
                moment = moment.astimezone(dt.UTC)
            except OverflowError:
                raise RequestError(
                    400, "bad_request", f"`{field}` is outside the times a decision can be made at"
                ) from None
            if max_skew is not None and abs(moment - clock()) > max_skew:
                raise RequestError(
                    400,
                    "bad_request",
                    f"`{field}` is more than {int(max_skew.total_seconds())} s from the clock",
                )
            return moment
    raise RequestError(400, "bad_request", f"`{field}` is not an ISO 8601 time with a zone")


def _mapping(data: Any, field: str, *, required: bool = True) -> dict[str, Any]:
    if data is None and not required:
        return {}
    if not isinstance(data, dict):
        raise RequestError(400, "bad_request", f"`{field}` must be an object")
    return data


@dataclass(frozen=True, slots=True)
class Envelope:
    """One evaluation's parts, as sent (documents not yet validated).

    Attributes:
        subject: the `subject` object.
        resource: the `resource` object.
        action: the action's name.
        context: the `context` object (possibly empty).
        where: the request field it came from (`evaluations.3`), for messages.
    """

    subject: dict[str, Any]
    resource: dict[str, Any]
    action: str
    context: dict[str, Any]
    where: str = ""

    def field(self, name: str) -> str:
        """A field's path in the request (`evaluations.3.subject`)."""
        return f"{self.where}.{name}" if self.where else name


def check_parts(body: Mapping[str, Any], *, where: str = "") -> None:
    """Refuse a known part of the envelope that has the wrong shape (wherever it is).

    `subject`, `resource`, `action` and `context` must be objects; their `type`,
    `id`, `name` and `time` strings. Fields the specification does not name
    are not looked at.

    Raises:
        RequestError: a part of the wrong shape.
    """
    prefix = f"{where}." if where else ""
    for part, fields in (
        ("subject", ("type", "id")),
        ("resource", ("type", "id")),
        ("action", ("name",)),
        ("context", ("time",)),
    ):
        if part not in body:
            continue
        value = body[part]
        if not isinstance(value, dict):
            raise RequestError(400, "bad_request", f"`{prefix}{part}` must be an object")
        for name in fields:
            if name in value and not isinstance(value[name], str):
                raise RequestError(400, "bad_request", f"`{prefix}{part}.{name}` must be a string")
    for part in ("subject", "resource"):
        if "properties" in body.get(part, {}) and not isinstance(body[part]["properties"], dict):
            raise RequestError(400, "bad_request", f"`{prefix}{part}.properties` must be an object")
    action = body.get("action")
    if isinstance(action, dict) and action.get("name") not in ACTIONS:
        raise RequestError(
            400, "bad_request", f"`{prefix}action.name` must be one of {', '.join(ACTIONS)}"
        )


def envelope_of(data: Any, *, where: str = "", need_action: bool = True) -> Envelope:
    """Read an evaluation's subject, resource, action and context; ignore anything else.

    Args:
        data: the parsed request (or one entry of `evaluations`, merged with
            the defaults).
        where: its place in the request, for messages.
        need_action: whether `action` is required (not for search/action).

    Returns:
        The envelope.

    Raises:
        RequestError: a part is missing or of the wrong shape, or the action
            is not one of `ACTIONS`.
    """
    prefix = f"{where}." if where else ""
    body = _mapping(data, where or "body")
    check_parts(body, where=where)
    subject = _mapping(body.get("subject"), f"{prefix}subject")
    resource = _mapping(body.get("resource"), f"{prefix}resource")
    context = _mapping(body.get("context"), f"{prefix}context", required=False)
    action = ""
    if need_action:
        action_data = _mapping(body.get("action"), f"{prefix}action")
        name = action_data.get("name")
        if not isinstance(name, str) or name not in ACTIONS:
            raise RequestError(
                400,
                "bad_request",
                f"`{prefix}action.name` must be one of {', '.join(ACTIONS)}",
            )
        action = name
    return Envelope(subject, resource, action, context, where)


def merge_defaults(defaults: Mapping[str, Any], entry: Any, *, where: str) -> dict[str, Any]:
    """One batch entry with the top-level subject, resource, action and context as defaults.

    A part given in the entry replaces the default whole (AuthZEN §7.1.1).

    Raises:
        RequestError: the entry is not an object.
    """
    entry = _mapping(entry, where)
    merged = {
        name: defaults[name]
        for name in ("subject", "resource", "action", "context")
        if name in defaults
    }
    merged.update(
        (name, entry[name])
        for name in ("subject", "resource", "action", "context")
        if name in entry
    )
    return merged


def action_view(action: str) -> View:
    """The least view an action asks for."""
    return ACTIONS[action]


def none_context(*, policy: Mapping[str, str], decision_id: str) -> dict[str, Any]:
    """The context of a decision at `none`: the same for every item."""
    return {
        "view": "none",
        "reasons": [],
        "conditions": [],
        "obligations": [],
        "policy": dict(policy),
        "decision_id": decision_id,
    }


def decision_context(
    item: Item,
    decision: Decision,
    *,
    policy: Mapping[str, str],
    decision_id: str,
) -> dict[str, Any]:
    """The response `context` of a decision: view, reasons, conditions, obligations.

    Obligations tell the enforcement point, which holds the item it sent,
    what to do before showing it: withhold the portions and subjects the view
    does not show, take the masked texts from `/dissemination/v1/view`, refer
    the reader to the originator or owner.

    Args:
        item: the item decided on (as the caller sent it).
        decision: the decision.
        policy: `{"digest": ..., "revision": ...}` of the policy that decided.
        decision_id: the request's id.

    Returns:
        JSON-ready data.
    """
    if decision.view is View.NONE:
        return none_context(policy=policy, decision_id=decision_id)
    shown = set(decision.portions)
    obligations: list[dict[str, Any]] = []
    withheld_portions = [portion.id for portion in item.portions if portion.id not in shown]
    if withheld_portions:
        obligations.append({"id": "withhold_portions", "portions": withheld_portions})
    shown_subjects = set(decision.subjects)
    withheld_subjects = [
        index for index in range(len(item.subjects)) if index not in shown_subjects
    ]
    if withheld_subjects:
        obligations.append({"id": "withhold_subjects", "subjects": withheld_subjects})
    if decision.masks:
        obligations.append(
            {
                "id": "mask_text",
                "parts": sorted(
                    {f"{mask.part}:{mask.id}" if mask.id else mask.part for mask in decision.masks}
                ),
            }
        )
    obligations.extend({"id": name} for name in decision.obligations)
    return {
        "view": decision.view.label,
        "reasons": [{"rule": reason.rule, "text": reason.text} for reason in decision.reasons],
        "conditions": shown_conditions(decision),  # masked as `view` masks them
        "obligations": obligations,
        "policy": dict(policy),
        "decision_id": decision_id,
    }
