"""The OpenAPI document at /openapi.json, checked against the application with schemathesis.

Bounded: a few examples per operation (CI time), every operation of the
document, no 5xx and every response matching its schema.
"""

from __future__ import annotations

import atexit
import json
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.testclient import TestClient

from dissemination.registry import Registry
from dissemination.service.auth import add_caller, load_callers
from tests.registry.support import KEYS
from tests.service.support import make_app

EXAMPLES = 5
"""Examples per operation: enough to reach each error path, cheap enough for CI."""


_DIRECTORY = tempfile.TemporaryDirectory(prefix="dissemination-openapi-")
atexit.register(_DIRECTORY.cleanup)
REGISTRY = Registry(f"sqlite:///{Path(_DIRECTORY.name) / 'registry.db'}", keys=KEYS, upgrade=True)
atexit.register(REGISTRY.close)
_CALLERS = Path(_DIRECTORY.name) / "callers.txt"
TOKEN = add_caller(_CALLERS, "schemathesis")
APP = make_app(registry=REGISTRY, callers=load_callers(_CALLERS))


@schemathesis.serializer("application/x-ndjson")
def _json_lines(_ctx: object, value: object) -> bytes:
    """The filter's body: any generated value as text (it must be answered, not crash)."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


# Fuzzing only, bounded by `EXAMPLES`: the coverage phase walks every boundary of
# the item's JSON Schema and takes minutes on this machine.
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": False}, "examples": {"enabled": False}}, "seed": 20261201}
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_app_keeps_its_openapi_document(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        # A document can match the item's JSON Schema and still break the contract
        # (vocabulary, a tearline its marking hides, a container's check digit):
        # a 400 for schema-valid data is right here, so that check does not apply.
        excluded_checks=[positive_data_acceptance],
    )


def test_every_endpoint_is_in_the_document() -> None:
    document = TestClient(APP).get("/openapi.json").json()
    served = {route.path for route in APP.routes}  # type: ignore[attr-defined]
    assert served == set(document["paths"]) | {"/openapi.json"}
