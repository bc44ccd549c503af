"""The registry over HTTP: AuthZEN resource search, lookup and register (`serve --registry`).

Everything goes through the registry's Python API (`dissemination.Registry`):
a lookup answers only what the reader's view of each linked item allows, so an
item hidden from the reader is indistinguishable from no item at all, and the
paged search over it is too. The identifier asked about is in
`context.identifier`: `{type, value}` (a person: `value` is the name, with
`date_of_birth`; a passport: with `country`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dissemination.errors import IdentifierError
from dissemination.service.protocol import RequestError, envelope_of

__all__ = ["open_registry", "registry_routes"]

_PAGE_LIMIT = 100


def open_registry(url: str, key_file: str | None) -> Any:
    """Open the registry named by `serve --registry URL --registry-key FILE`."""
    from dissemination.registry import Registry  # noqa: PLC0415

    return Registry(url, key_file=Path(key_file) if key_file else None)


def _identifier(context: Mapping[str, Any], where: str) -> Any:
    from dissemination.identifiers import normalise_value  # noqa: PLC0415

    data = context.get("identifier")
    if not isinstance(data, dict):
        raise RequestError(400, "bad_request", f"`{where}.identifier` must be an object")
    kind, value = data.get("type"), data.get("value")
    if not isinstance(kind, str) or not isinstance(value, str):
        raise RequestError(
            400, "bad_request", f"`{where}.identifier` needs `type` and `value` strings"
        )
    country = data.get("country")
    born = data.get("date_of_birth")
    try:
        return normalise_value(
            kind,
            value,
            country=country if isinstance(country, str) else None,
            date_of_birth=born if isinstance(born, str) else None,
        )
    except IdentifierError:
        raise RequestError(
            400, "bad_request", f"`{where}.identifier` is not a valid identifier of its type"
        ) from None


def registry_routes(service: Any) -> list[Route]:
    """The registry endpoints over `service`'s configuration (`app.Service`)."""
    registry = service.config.registry
    state = service.state

    async def lookup_answer(request: Request, request_id: str) -> tuple[Any, dict[str, Any]]:
        data = await service.body(request)
        active = service.active()
        envelope = envelope_of({"resource": {}, **data}, need_action=False)
        principal = service.principal(envelope, active)
        identifier = _identifier(envelope.context, "context")
        now = state.time(envelope.context.get("time"), field="context.time")

        def record(item: Any, decision: Any) -> None:
            state.record(item, decision, request_id)

        answer = await run_in_threadpool(
            registry.lookup,
            identifier,
            principal,
            now=now,
            policy=active.policy,
            record=record if state.trail is not None else None,
        )
        return answer, {"policy": active.names, "decision_id": request_id}

    async def search_resource(request: Request, request_id: str) -> Response:
        answer, context = await lookup_answer(request, request_id)
        # The page was read with the body by lookup_answer (Starlette caches it).
        data = await service.body(request)
        page = data.get("page") if isinstance(data.get("page"), dict) else {}
        token = page.get("token") or "0"
        limit = page.get("limit", _PAGE_LIMIT)
        if not isinstance(token, str) or not token.isdigit():
            raise RequestError(400, "bad_request", "`page.token` is not a token this service gave")
        if not isinstance(limit, int) or not 1 <= limit <= _PAGE_LIMIT:
            raise RequestError(400, "bad_request", f"`page.limit` must be 1 to {_PAGE_LIMIT}")
        start = int(token)
        ids = [linked.item_id for linked in answer.items]
        chunk = ids[start : start + limit]
        following = start + limit
        return JSONResponse(
            {
                "results": [{"type": "item", "id": item_id} for item_id in chunk],
                "page": {"next_token": str(following) if following < len(ids) else ""},
                "context": context,
            }
        )

    async def lookup(request: Request, request_id: str) -> Response:
        answer, context = await lookup_answer(request, request_id)
        return JSONResponse({**answer.to_json(), "context": context})

    async def register(request: Request, request_id: str) -> Response:
        data = await service.body(request)
        active = service.active()
        resource = data.get("resource")
        if not isinstance(resource, dict):
            raise RequestError(400, "bad_request", "`resource` must be an object")
        envelope = envelope_of({"subject": {}, "resource": resource}, need_action=False)
        item = service.item(envelope, active)
        context = data.get("context") if isinstance(data.get("context"), dict) else {}
        now = state.time(context.get("time"), field="context.time")
        verified = bool(state.label_check(item)) if state.label_check is not None else False
        try:
            registrations = await run_in_threadpool(
                registry.register, item, now=now, actor="service", label_verified=verified
            )
        except IdentifierError as exc:
            where = f"resource.properties.{exc.field}" if exc.field else "resource.properties"
            raise RequestError(400, "bad_request", f"`{where}` is not a valid identifier") from None
        return JSONResponse(
            {
                "registrations": [registration.to_json() for registration in registrations],
                "decision_id": request_id,
            }
        )

    return [
        Route(
            "/access/v1/search/resource",
            service.endpoint("search_resource", search_resource),
            methods=["POST"],
        ),
        Route(
            "/dissemination/v1/registry/lookup",
            service.endpoint("registry_lookup", lookup),
            methods=["POST"],
        ),
        Route(
            "/dissemination/v1/registry/register",
            service.endpoint("registry_register", register),
            methods=["POST"],
        ),
    ]
