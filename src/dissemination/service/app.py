"""The HTTP application (Starlette): AuthZEN 1.0 endpoints, our own, health and metrics.

Every endpoint goes through `_endpoint`, which gives the request its id
(`X-Request-ID` when sent and well formed, else a new UUID; echoed in the
response and used as the `decision_id`), authenticates the caller when a
callers file is configured, turns a `RequestError` into a one-line JSON error
and anything unexpected into a 500 that quotes nothing, and measures it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse as StarletteJSONResponse
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

import dissemination
from dissemination.errors import DisseminationError, InputError, TrailError
from dissemination.loading import parse_item
from dissemination.models import Item, Principal
from dissemination.redaction import render, render_text
from dissemination.service.auth import CallerFile, ReaderSource
from dissemination.service.cache import DocumentCache
from dissemination.service.metrics import CONTENT_TYPE, Metrics
from dissemination.service.openapi import openapi_document
from dissemination.service.protocol import (
    ACTIONS,
    SEMANTICS,
    Envelope,
    RequestError,
    action_view,
    check_parts,
    decision_context,
    document_problem,
    envelope_of,
    merge_defaults,
)
from dissemination.service.state import Active, ServiceState
from dissemination.vocabulary import View

__all__ = ["Service", "ServiceConfig", "create_app"]

LOG = logging.getLogger("dissemination.service")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
_MAX_BODY = 8 * 1024 * 1024
_MAX_BATCH = 10_000


def _filter_views(*args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """The public bulk filter (`dissemination.filter_items`)."""
    return dissemination.filter_items(*args, **kwargs)


@dataclass
class ServiceConfig:
    """How a service is set up (what `dissemination serve` builds from its options).

    Attributes:
        state: the active policy, label check, trail and clock.
        readers: where the reader of a decision comes from.
        callers: the callers accepted; None accepts any (a loopback-only setup).
        registry: the ownership registry (`dissemination.Registry`), if any.
    """

    state: ServiceState
    readers: ReaderSource
    callers: CallerFile | None = None
    registry: Any = None


class JSONResponse(StarletteJSONResponse):
    """A JSON response written by orjson (Starlette's own encoder, for what orjson refuses)."""

    def render(self, content: Any) -> bytes:
        """The content as compact UTF-8 JSON."""
        try:
            return orjson.dumps(content)
        except TypeError:  # an integer beyond 64 bits, say
            return super().render(content)


def _error(exc: RequestError, request_id: str) -> JSONResponse:
    return JSONResponse(
        {"error": exc.kind, "message": exc.message, "request_id": request_id},
        status_code=exc.status,
        headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None,
    )


Handler = Callable[[Request, str], Awaitable[Response]]


class Service:
    """The application's handlers, over one `ServiceConfig`."""

    def __init__(self, config: ServiceConfig) -> None:
        """Keep the configuration and make the metrics."""
        self.config = config
        self.state = config.state
        self.metrics = Metrics()
        self.items = DocumentCache()

    # -- plumbing ------------------------------------------------------------------

    def endpoint(
        self, name: str, handler: Handler, *, public: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: request id, authentication, errors, metrics."""
        metrics = self.metrics

        async def run(request: Request) -> Response:
            started = time.perf_counter()
            sent = request.headers.get("x-request-id")
            request_id = sent if sent and _REQUEST_ID.match(sent) else str(uuid.uuid4())
            try:
                if not public:
                    self.authenticate(request)
                response = await handler(request, request_id)
            except RequestError as exc:
                metrics.errors.labels(exc.kind).inc()
                response = _error(exc, request_id)
            except TrailError:
                LOG.exception("disclosure trail failed; nothing answered")
                metrics.errors.labels("trail").inc()
                response = _error(
                    RequestError(
                        503, "trail_unavailable", "the disclosure trail cannot be written"
                    ),
                    request_id,
                )
            except InputError:
                metrics.errors.labels("bad_request").inc()
                response = _error(
                    RequestError(400, "bad_request", "the request is not valid"), request_id
                )
            except DisseminationError as exc:
                LOG.error("answering %s: %s", name, type(exc).__name__)  # noqa: TRY400 (one line in the log, no traceback)
                metrics.errors.labels("unavailable").inc()
                response = _error(
                    RequestError(503, "unavailable", "the service cannot answer now"), request_id
                )
            except Exception:
                LOG.exception("internal error answering %s", name)
                metrics.errors.labels("internal").inc()
                response = _error(RequestError(500, "internal", "internal error"), request_id)
            response.headers["X-Request-ID"] = request_id
            metrics.latency.labels(name).observe(time.perf_counter() - started)
            return response

        return run

    def authenticate(self, request: Request) -> None:
        """Refuse a request without a valid bearer token (when callers are configured).

        Raises:
            RequestError: 401.
        """
        callers = self.config.callers
        if callers is None:
            return
        if callers.caller(request.headers.get("authorization")) is None:
            raise RequestError(401, "unauthenticated", "a valid bearer token is required")

    async def body(self, request: Request) -> dict[str, Any]:
        """The request body as a JSON object.

        Raises:
            RequestError: too large, not JSON, or not an object.
        """
        kept = getattr(request.state, "raw_body", None)
        raw = kept if kept is not None else await _bounded_body(request)
        request.state.raw_body = raw  # a second reader of the body (registry search) gets it
        data = _parse_json(raw, "the body")
        if not isinstance(data, dict):
            raise RequestError(400, "bad_request", "the body must be a JSON object")
        return data

    def active(self) -> Active:
        """The active policy, read once per request.

        Raises:
            RequestError: no policy is active yet (503).
        """
        active = self.state.slot.active
        if active is None:
            raise RequestError(503, "no_policy", "no policy is active")
        return active

    def principal(self, envelope: Envelope, active: Active) -> Principal:
        """The reader of an envelope (by the deployment's reader source)."""
        return self.config.readers.reader(
            envelope.subject, where=envelope.field("subject"), policy=active.policy
        )

    def item(self, envelope: Envelope, active: Active) -> Item:
        """The item of an envelope: `resource.properties`, strictly validated."""
        where = envelope.field("resource")
        data = envelope.resource.get("properties")
        if not isinstance(data, dict):
            raise RequestError(400, "bad_request", f"`{where}.properties` must be an object")
        policy = active.policy
        try:
            item: Item = self.items.get(
                policy.digest, data, lambda: parse_item(data, policy=policy)
            )
        except InputError as exc:
            raise document_problem(f"{where}.properties", exc) from None
        named = envelope.resource.get("id")
        if named is not None and named != item.id:
            raise RequestError(400, "bad_request", f"`{where}.id` is not `{where}.properties.id`")
        return item

    async def record(self, pairs: list[tuple[Item, Any, str]]) -> None:
        """Record every disclosure in the trail before answering (in a worker thread)."""
        if self.state.trail is None or not pairs:
            return

        def write() -> None:
            for item, decision, decision_id in pairs:
                self.state.record(item, decision, decision_id)

        await run_in_threadpool(write)

    def evaluate(
        self,
        envelope: Envelope,
        active: Active,
        decision_id: str,
        memo: dict[tuple[str, int], Any] | None = None,
    ) -> tuple[bool, dict[str, Any], tuple[Item, Any, str] | None]:
        """Decide one evaluation: (decision, context, what to record).

        `memo` keeps, for one request, the reader and item validated from each
        subject and resource object: a batch's defaults are validated once (the
        objects live as long as the request, so their ids cannot be reused).
        """
        if memo is None:
            principal = self.principal(envelope, active)
            item = self.item(envelope, active)
        else:
            subject_key = ("subject", id(envelope.subject))
            if subject_key not in memo:
                memo[subject_key] = self.principal(envelope, active)
            principal = memo[subject_key]
            resource_key = ("resource", id(envelope.resource))
            if resource_key not in memo:
                memo[resource_key] = self.item(envelope, active)
            item = memo[resource_key]
        now = self.state.time(envelope.context.get("time"), field=envelope.field("context.time"))
        decision = self.state.decide(active, principal, item, now)
        self.metrics.decided(decision.view.label)
        allowed = decision.view >= action_view(envelope.action)
        context = decision_context(item, decision, policy=active.names, decision_id=decision_id)
        disclosed = (item, decision, decision_id) if decision.view is not View.NONE else None
        return allowed, context, disclosed

    # -- AuthZEN ---------------------------------------------------------------------

    async def evaluation(self, request: Request, request_id: str) -> Response:
        """POST /access/v1/evaluation."""
        data = await self.body(request)
        active = self.active()
        allowed, context, disclosed = self.evaluate(envelope_of(data), active, request_id)
        await self.record([disclosed] if disclosed else [])
        return JSONResponse({"decision": allowed, "context": context})

    async def evaluations(self, request: Request, request_id: str) -> Response:
        """POST /access/v1/evaluations: a batch, defaults from the top level, in order."""
        data = await self.body(request)
        active = self.active()
        check_parts(data)  # the defaults, even when no entry uses them
        entries = data.get("evaluations")
        options = data.get("options", {})
        semantic = "execute_all"
        if not isinstance(options, dict):
            raise RequestError(400, "bad_request", "`options` must be an object")
        if "evaluations_semantic" in options:
            semantic = options["evaluations_semantic"]
            if semantic not in SEMANTICS:
                raise RequestError(
                    400,
                    "bad_request",
                    f"`options.evaluations_semantic` must be one of {', '.join(SEMANTICS)}",
                )
        if entries is None:  # AuthZEN §7.1: no `evaluations` is one evaluation
            allowed, context, disclosed = self.evaluate(envelope_of(data), active, request_id)
            await self.record([disclosed] if disclosed else [])
            return JSONResponse({"decision": allowed, "context": context})
        if not isinstance(entries, list):
            raise RequestError(400, "bad_request", "`evaluations` must be an array")
        if len(entries) > _MAX_BATCH:
            raise RequestError(413, "too_large", f"at most {_MAX_BATCH} evaluations a request")
        results: list[dict[str, Any]] = []
        records: list[tuple[Item, Any, str]] = []
        memo: dict[tuple[str, int], Any] = {}
        for index, entry in enumerate(entries):
            where = f"evaluations.{index}"
            merged = merge_defaults(data, entry, where=where)
            envelope = envelope_of(merged, where=where)
            allowed, context, disclosed = self.evaluate(
                envelope, active, f"{request_id}:{index}", memo
            )
            results.append({"decision": allowed, "context": context})
            if disclosed:
                records.append(disclosed)
            if (semantic == "deny_on_first_deny" and not allowed) or (
                semantic == "permit_on_first_permit" and allowed
            ):
                break
        await self.record(records)
        return JSONResponse({"evaluations": results})

    async def search_action(self, request: Request, request_id: str) -> Response:
        """POST /access/v1/search/action: the actions (views) this reader has of this item."""
        data = await self.body(request)
        active = self.active()
        envelope = envelope_of(data, need_action=False)
        principal = self.principal(envelope, active)
        item = self.item(envelope, active)
        now = self.state.time(envelope.context.get("time"), field="context.time")
        decision = self.state.decide(active, principal, item, now)
        self.metrics.decided(decision.view.label)
        if decision.view is not View.NONE:
            await self.record([(item, decision, request_id)])
        results = [{"name": name} for name, view in ACTIONS.items() if decision.view >= view]
        return JSONResponse(
            {
                "results": results,
                "page": {"next_token": ""},
                "context": {"policy": active.names, "decision_id": request_id},
            }
        )

    async def configuration(self, request: Request, request_id: str) -> Response:
        """GET /.well-known/authzen-configuration."""
        del request_id
        base = str(request.base_url).rstrip("/")
        document = {
            "policy_decision_point": base,
            "access_evaluation_endpoint": f"{base}/access/v1/evaluation",
            "access_evaluations_endpoint": f"{base}/access/v1/evaluations",
            "search_action_endpoint": f"{base}/access/v1/search/action",
            "capabilities": [
                "evaluations_semantic:execute_all",
                "evaluations_semantic:deny_on_first_deny",
                "evaluations_semantic:permit_on_first_permit",
                "dissemination:view",
                "dissemination:filter",
            ],
        }
        if self.config.registry is not None:
            document["search_resource_endpoint"] = f"{base}/access/v1/search/resource"
        return JSONResponse(document)

    # -- our own ---------------------------------------------------------------------

    async def view(self, request: Request, request_id: str) -> Response:
        """POST /dissemination/v1/view: the document `dissemination view` prints."""
        data = await self.body(request)
        active = self.active()
        envelope = envelope_of(data, need_action=False)
        fmt = data.get("format", "json")
        if fmt not in ("json", "text"):
            raise RequestError(400, "bad_request", "`format` must be `json` or `text`")
        principal = self.principal(envelope, active)
        item = self.item(envelope, active)
        now = self.state.time(envelope.context.get("time"), field="context.time")
        decision = self.state.decide(active, principal, item, now)
        self.metrics.decided(decision.view.label)
        if decision.view is not View.NONE:
            await self.record([(item, decision, request_id)])
        if fmt == "text":
            return PlainTextResponse(render_text(item, decision))
        document = render(item, decision)
        document["revision"] = active.revision
        document["decision_id"] = request_id
        return JSONResponse(document)

    async def filter(self, request: Request, request_id: str) -> Response:
        """POST /dissemination/v1/filter: JSON Lines in (an envelope, then items), out, streamed.

        The first line is `{"subject": ..., "context": ...}`; every further line
        an item document. Out come the rendered views of the items the reader
        may know of, one a line, as they are decided; items at `none` leave no
        trace. A line that cannot be used ends the stream with one error line.
        """
        active = self.active()
        lines = _lines(request.stream())
        try:
            first = await anext(lines)
        except StopAsyncIteration:
            raise RequestError(400, "bad_request", "the body is empty") from None
        envelope = envelope_of(
            {"resource": {}, **_json_line(first, 1)}, where="line 1", need_action=False
        )
        principal = self.principal(envelope, active)
        now = self.state.time(envelope.context.get("time"), field="line 1.context.time")
        state = self.state
        metrics = self.metrics

        async def produce() -> AsyncIterator[bytes]:
            number = 1
            async for line in lines:
                number += 1
                try:
                    data = _json_line(line, number)
                    try:
                        item = parse_item(data, policy=active.policy)
                    except InputError as exc:
                        raise document_problem(f"line {number}", exc) from None
                    decision_id = f"{request_id}:{number}"

                    def one(item: Item = item, decision_id: str = decision_id) -> list[Any]:
                        def keep(item: Item, decision: Any) -> None:
                            state.record(item, decision, decision_id)

                        return list(
                            _filter_views(
                                principal,
                                [item],
                                now=now,
                                policy=active.policy,
                                label_check=state.label_check,
                                record=keep if state.trail is not None else None,
                            )
                        )

                    # With a trail, each line waits on the disk: in a worker thread,
                    # so other requests are answered meanwhile.
                    out = await run_in_threadpool(one) if state.trail is not None else one()
                    metrics.decided(out[0]["view"] if out else "none")
                    for document in out:
                        document["decision_id"] = decision_id
                        document["revision"] = active.revision
                        yield (json.dumps(document, ensure_ascii=False) + "\n").encode()
                except RequestError as exc:
                    metrics.errors.labels(exc.kind).inc()
                    yield (json.dumps({"error": exc.kind, "message": exc.message}) + "\n").encode()
                    return
                except TrailError:
                    LOG.exception("disclosure trail failed; stream ended")
                    metrics.errors.labels("trail").inc()
                    message = {"error": "trail_unavailable", "message": "the trail failed"}
                    yield (json.dumps(message) + "\n").encode()
                    return

        return StreamingResponse(produce(), media_type="application/x-ndjson")

    # -- operations --------------------------------------------------------------------

    async def healthz(self, request: Request, request_id: str) -> Response:
        """GET /healthz: the process answers."""
        del request, request_id
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request, request_id: str) -> Response:
        """GET /readyz: ready when a policy is active; names it, and any failed swap."""
        del request, request_id
        slot = self.state.slot
        active = slot.active
        document: dict[str, Any] = {
            "ready": active is not None,
            "policy": active.names if active is not None else None,
            "source": active.source if active is not None else None,
            "problem": slot.problem,
        }
        return JSONResponse(document, status_code=200 if active is not None else 503)

    async def metrics_endpoint(self, request: Request, request_id: str) -> Response:
        """GET /metrics: Prometheus text format."""
        del request, request_id
        return Response(self.metrics.exposition(), media_type=CONTENT_TYPE)

    async def openapi(self, request: Request, request_id: str) -> Response:
        """GET /openapi.json."""
        del request, request_id
        active = self.state.slot.active
        return JSONResponse(
            openapi_document(
                registry=self.config.registry is not None,
                policy=active.policy if active is not None else None,
            )
        )


async def _bounded_body(request: Request) -> bytes:
    """The body, read no further than `_MAX_BODY` bytes.

    A declared `Content-Length` beyond the limit is refused before any of the
    body is read, and a body sent without one (chunked) is refused as soon as
    it passes the limit: a caller cannot make the service hold more.

    Raises:
        RequestError: the body is (or says it is) too large (413).
    """
    too_large = RequestError(413, "too_large", "the request body is too large")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > _MAX_BODY):
        raise too_large
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_BODY:
            raise too_large
        parts.append(chunk)
    return b"".join(parts)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    built = dict(pairs)
    if len(built) != len(pairs):
        raise ValueError("a repeated key")
    return built


def _no_constant(_name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _parse_json(raw: bytes, what: str) -> Any:
    """JSON, with a repeated key refused as the library refuses it in files.

    (A second `handling` key silently replacing the first would change a label
    unseen.) The rule of `loading.parse_document`, checked by a hook that
    compares counts in C: a batch of 100 items parses in about 4 ms here,
    against about 35 ms through the file reader's character scan.
    """
    try:
        return json.loads(raw, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RequestError(
            400, "bad_request", f"{what} is not JSON, or repeats a key in an object"
        ) from None


def _json_line(line: bytes, number: int) -> dict[str, Any]:
    data = _parse_json(line, f"line {number}")
    if not isinstance(data, dict):
        raise RequestError(400, "bad_request", f"line {number} must be a JSON object")
    return data


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Non-blank lines of a streamed body, each at most `_MAX_BODY` bytes."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if line.strip():
                yield line
        if len(pending) > _MAX_BODY:
            raise RequestError(413, "too_large", "a line is too long")
    if pending.strip():
        yield pending


def create_app(config: ServiceConfig) -> Starlette:
    """The Starlette application for a configuration.

    Args:
        config: the service's configuration.

    Returns:
        The ASGI application; `app.state.service` is the `Service`.
    """
    service = Service(config)
    routes = [
        Route(
            "/access/v1/evaluation",
            service.endpoint("evaluation", service.evaluation),
            methods=["POST"],
        ),
        Route(
            "/access/v1/evaluations",
            service.endpoint("evaluations", service.evaluations),
            methods=["POST"],
        ),
        Route(
            "/access/v1/search/action",
            service.endpoint("search_action", service.search_action),
            methods=["POST"],
        ),
        Route(
            "/.well-known/authzen-configuration",
            service.endpoint("configuration", service.configuration, public=True),
            methods=["GET"],
        ),
        Route("/dissemination/v1/view", service.endpoint("view", service.view), methods=["POST"]),
        Route(
            "/dissemination/v1/filter",
            service.endpoint("filter", service.filter),
            methods=["POST"],
        ),
        Route("/healthz", service.endpoint("healthz", service.healthz, public=True)),
        Route("/readyz", service.endpoint("readyz", service.readyz, public=True)),
        Route("/metrics", service.endpoint("metrics", service.metrics_endpoint)),
        Route("/openapi.json", service.endpoint("openapi", service.openapi, public=True)),
    ]
    if config.registry is not None:
        from dissemination.service.registry_routes import registry_routes  # noqa: PLC0415

        routes.extend(registry_routes(service))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        kind = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
        sent = request.headers.get("x-request-id")
        request_id = sent if sent and _REQUEST_ID.match(sent) else str(uuid.uuid4())
        response = _error(RequestError(status, kind, kind.replace("_", " ")), request_id)
        if isinstance(exc, HTTPException) and exc.headers:
            response.headers.update(exc.headers)  # `Allow` on a 405 (RFC 9110)
        response.headers["X-Request-ID"] = request_id
        return response

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.service = service
    return app
