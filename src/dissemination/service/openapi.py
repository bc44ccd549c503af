"""The OpenAPI 3.1 document the service serves at `/openapi.json`.

Written by hand, as data: it is the contract callers build against, and
tests/service/test_openapi.py checks the application against it with
schemathesis (no 5xx; every response matches its schema).
"""

from __future__ import annotations

from typing import Any

from dissemination import __version__
from dissemination.policy import Policy, default_policy
from dissemination.schema import json_schema

__all__ = ["openapi_document"]

_ANY_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}

_ERROR = {
    "type": "object",
    "required": ["error", "message", "request_id"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "request_id": {"type": "string"},
    },
}

_POLICY = {
    "type": "object",
    "required": ["digest", "revision"],
    "properties": {"digest": {"type": "string"}, "revision": {"type": "string"}},
}

_CONTEXT = {
    "type": "object",
    "required": ["view", "reasons", "conditions", "obligations", "policy", "decision_id"],
    "properties": {
        "view": {"type": "string", "enum": ["none", "pointer", "gist", "sanitised", "full"]},
        "reasons": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rule", "text"],
                "properties": {"rule": {"type": "string"}, "text": {"type": "string"}},
            },
        },
        "conditions": {"type": "array", "items": {"type": "string"}},
        "obligations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "string"}},
            },
        },
        "policy": {"$ref": "#/components/schemas/Policy"},
        "decision_id": {"type": "string"},
    },
}

_SUBJECT = {
    "type": "object",
    "description": "The reader: `properties` is the principal document (trusted gateway), "
    "or `id` names a reader (--readers), or `properties.token` is the end user's JWT (--jwks).",
    "properties": {
        "type": {"type": "string"},
        "id": {"type": "string"},
        "properties": {
            "anyOf": [
                {"$ref": "#/components/schemas/Principal"},
                {
                    "type": "object",
                    "required": ["token"],
                    "properties": {"token": {"type": "string"}},
                },
            ]
        },
    },
}

_RESOURCE = {
    "type": "object",
    "required": ["properties"],
    "description": "The item: `properties` is the item document, signed or not.",
    "properties": {
        "type": {"type": "string"},
        "id": {"type": "string"},
        "properties": {"$ref": "#/components/schemas/Item"},
    },
}

_ACTION = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {
            "type": "string",
            "enum": ["view:full", "view:sanitised", "view:gist", "view:pointer", "know_of"],
        }
    },
}

_REQUEST_CONTEXT = {
    "type": "object",
    "properties": {"time": {"type": "string", "description": "ISO 8601 with a zone"}},
}

_EVALUATION_REQUEST = {
    "type": "object",
    "required": ["subject", "resource", "action"],
    "properties": {
        "subject": {"$ref": "#/components/schemas/Subject"},
        "resource": {"$ref": "#/components/schemas/Resource"},
        "action": {"$ref": "#/components/schemas/Action"},
        "context": {"$ref": "#/components/schemas/RequestContext"},
    },
}

_EVALUATION_RESPONSE = {
    "type": "object",
    "required": ["decision", "context"],
    "properties": {
        "decision": {"type": "boolean"},
        "context": {"$ref": "#/components/schemas/DecisionContext"},
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": "error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def _json(schema: dict[str, Any], description: str = "answer") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _post(
    summary: str, request: dict[str, Any], response: dict[str, Any], *, auth: bool = True
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
        "responses": {"200": response, **_errors(400, 401, 413, 503)},
    }
    if not auth:
        operation["security"] = []
    return operation


def _contract_schemas(policy: Policy) -> dict[str, Any]:
    """The item and principal JSON Schemas (`dissemination schema`), as components.

    Their `$defs` move up beside them and their references follow.
    """
    components: dict[str, Any] = {}

    def relink(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: (
                    value.replace("#/$defs/", "#/components/schemas/")
                    if key == "$ref" and isinstance(value, str)
                    else relink(value)
                )
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [relink(value) for value in node]
        return node

    for name, document in (("Item", "item"), ("Principal", "principal")):
        schema = dict(json_schema(document, policy=policy))
        schema.pop("$schema", None)
        for def_name, definition in schema.pop("$defs", {}).items():
            components[def_name] = relink(definition)
        components[name] = relink(schema)
    return components


def openapi_document(*, registry: bool = False, policy: Policy | None = None) -> dict[str, Any]:
    """The OpenAPI document of the service.

    Args:
        registry: whether the registry endpoints are served.
        policy: the active profile (its vocabulary is in the item and principal schemas).

    Returns:
        The document (JSON-ready).
    """
    paths: dict[str, Any] = {
        "/access/v1/evaluation": {
            "post": _post(
                "AuthZEN access evaluation: may this reader have this view of this item?",
                {"$ref": "#/components/schemas/EvaluationRequest"},
                _json({"$ref": "#/components/schemas/EvaluationResponse"}),
            )
        },
        "/access/v1/evaluations": {
            "post": _post(
                "AuthZEN batch evaluation; top-level parts are defaults; results in request order",
                {
                    "type": "object",
                    "properties": {
                        "subject": {"$ref": "#/components/schemas/Subject"},
                        "resource": {"$ref": "#/components/schemas/Resource"},
                        "action": {"$ref": "#/components/schemas/Action"},
                        "context": {"$ref": "#/components/schemas/RequestContext"},
                        "options": {
                            "type": "object",
                            "properties": {
                                "evaluations_semantic": {
                                    "type": "string",
                                    "enum": [
                                        "execute_all",
                                        "deny_on_first_deny",
                                        "permit_on_first_permit",
                                    ],
                                }
                            },
                        },
                        "evaluations": {"type": "array", "items": _ANY_OBJECT},
                    },
                },
                _json(
                    {
                        "oneOf": [
                            {
                                "type": "object",
                                "required": ["evaluations"],
                                "properties": {
                                    "evaluations": {
                                        "type": "array",
                                        "items": {
                                            "$ref": "#/components/schemas/EvaluationResponse"
                                        },
                                    }
                                },
                            },
                            {"$ref": "#/components/schemas/EvaluationResponse"},
                        ]
                    }
                ),
            )
        },
        "/access/v1/search/action": {
            "post": _post(
                "AuthZEN action search: the views this reader may have of this item",
                {
                    "type": "object",
                    "required": ["subject", "resource"],
                    "properties": {
                        "subject": {"$ref": "#/components/schemas/Subject"},
                        "resource": {"$ref": "#/components/schemas/Resource"},
                        "context": {"$ref": "#/components/schemas/RequestContext"},
                    },
                },
                _json(
                    {
                        "type": "object",
                        "required": ["results", "page", "context"],
                        "properties": {
                            "results": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["name"],
                                    "properties": {"name": {"type": "string"}},
                                },
                            },
                            "page": _ANY_OBJECT,
                            "context": _ANY_OBJECT,
                        },
                    }
                ),
            )
        },
        "/dissemination/v1/view": {
            "post": _post(
                "The redacted view, as `dissemination view` prints it",
                {
                    "type": "object",
                    "required": ["subject", "resource"],
                    "properties": {
                        "subject": {"$ref": "#/components/schemas/Subject"},
                        "resource": {"$ref": "#/components/schemas/Resource"},
                        "context": {"$ref": "#/components/schemas/RequestContext"},
                        "format": {"type": "string", "enum": ["json", "text"]},
                    },
                },
                {
                    "description": "the view",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["view", "reasons", "conditions", "obligations"],
                                "properties": {
                                    "view": {"type": "string"},
                                    "item": _ANY_OBJECT,
                                    "reasons": {"type": "array"},
                                    "conditions": {"type": "array"},
                                    "obligations": {"type": "array"},
                                    "policy": {"type": "string"},
                                    "revision": {"type": "string"},
                                    "decision_id": {"type": "string"},
                                },
                            }
                        },
                        "text/plain": {"schema": {"type": "string"}},
                    },
                },
            )
        },
        "/dissemination/v1/filter": {
            "post": {
                "summary": "JSON Lines in (an envelope line, then items), JSON Lines out, streamed",
                "requestBody": {
                    "required": True,
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "200": {
                        "description": "one rendered view a line; an error line ends the stream",
                        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                    },
                    **_errors(400, 401, 413, 503),
                },
            }
        },
        "/.well-known/authzen-configuration": {
            "get": {
                "summary": "AuthZEN metadata: endpoints and capabilities",
                "security": [],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": [
                                "policy_decision_point",
                                "access_evaluation_endpoint",
                            ],
                            "properties": {
                                "policy_decision_point": {"type": "string"},
                                "access_evaluation_endpoint": {"type": "string"},
                                "access_evaluations_endpoint": {"type": "string"},
                                "search_action_endpoint": {"type": "string"},
                                "search_resource_endpoint": {"type": "string"},
                                "capabilities": {"type": "array", "items": {"type": "string"}},
                            },
                        }
                    )
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "The process answers",
                "security": [],
                "responses": {"200": _json({"type": "object"})},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Ready when a policy is active; names its revision and any failed swap",
                "security": [],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Ready"}),
                    "503": _json({"$ref": "#/components/schemas/Ready"}, "not ready"),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {
                    "200": {
                        "description": "text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_errors(401),
                },
            }
        },
    }
    if registry:
        paths.update(_registry_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dissemination decision service",
            "version": __version__,
            "description": "OpenID AuthZEN Authorization API 1.0 over the dissemination "
            "policy, with redacted views, bulk filtering and the ownership registry.",
        },
        "paths": paths,
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                **_contract_schemas(policy or default_policy()),
                "Error": _ERROR,
                "Policy": _POLICY,
                "DecisionContext": _CONTEXT,
                "Subject": _SUBJECT,
                "Resource": _RESOURCE,
                "Action": _ACTION,
                "RequestContext": _REQUEST_CONTEXT,
                "EvaluationRequest": _EVALUATION_REQUEST,
                "EvaluationResponse": _EVALUATION_RESPONSE,
                "Ready": {
                    "type": "object",
                    "required": ["ready", "policy", "problem"],
                    "properties": {
                        "ready": {"type": "boolean"},
                        "policy": {"anyOf": [_POLICY, {"type": "null"}]},
                        "source": {"type": ["string", "null"]},
                        "problem": {"type": ["string", "null"]},
                    },
                },
            },
        },
    }


def _registry_paths() -> dict[str, Any]:
    subject_request = {
        "type": "object",
        "required": ["subject"],
        "properties": {
            "subject": {"$ref": "#/components/schemas/Subject"},
            "context": _ANY_OBJECT,
            "page": _ANY_OBJECT,
        },
    }
    return {
        "/access/v1/search/resource": {
            "post": _post(
                "AuthZEN resource search: items linked to a subject identifier this reader may "
                "know of, paged",
                subject_request,
                _json(
                    {
                        "type": "object",
                        "required": ["results", "page"],
                        "properties": {"results": {"type": "array"}, "page": _ANY_OBJECT},
                    }
                ),
            )
        },
        "/dissemination/v1/registry/lookup": {
            "post": _post(
                "Who owns intelligence on this subject identifier (as this reader may know)",
                subject_request,
                _json(_ANY_OBJECT),
            )
        },
        "/dissemination/v1/registry/register": {
            "post": _post(
                "Register an item: link it to its subjects, claim the unowned ones",
                {"type": "object", "required": ["resource"], "properties": {"resource": _RESOURCE}},
                _json(_ANY_OBJECT),
            )
        },
    }
