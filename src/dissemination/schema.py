"""JSON Schemas of the data contract, with the profile's vocabulary filled in."""

from __future__ import annotations

from typing import Any

from dissemination.models import Item, Principal
from dissemination.policy import Policy, default_policy

__all__ = ["SCHEMA_DOCUMENTS", "json_schema"]

SCHEMA_DOCUMENTS = ("item", "principal")

_VETTING_FIELDS = ("required_vetting", "min_vetting", "level")


def _with_vocabulary(node: Any, policy: Policy) -> None:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            levels = list(policy.vocabulary.vetting_levels)
            for name, spec in properties.items():
                if name == "classification" and isinstance(spec, dict):
                    spec["enum"] = list(policy.vocabulary.classifications)
                elif name in _VETTING_FIELDS and isinstance(spec, dict):
                    spec["description"] = "A vetting level of the profile: " + ", ".join(levels)
                    spec.setdefault("examples", levels[:1])
        for value in node.values():
            _with_vocabulary(value, policy)
    elif isinstance(node, list):
        for value in node:
            _with_vocabulary(value, policy)


def json_schema(document: str, *, policy: Policy | None = None) -> dict[str, Any]:
    """The JSON Schema of `item` or `principal`, naming the profile's vocabulary.

    Vetting levels are matched without regard to case (`sc` is `SC`), so the
    schema lists them in the description rather than as an exact `enum`.

    Args:
        document: `item` or `principal`.
        policy: the profile whose vocabulary to show (the default when None).

    Returns:
        The schema as JSON-ready data.

    Raises:
        ValueError: `document` is not `item` or `principal`.
    """
    if document == "item":
        schema = Item.model_json_schema()
    elif document == "principal":
        schema = Principal.model_json_schema()
    else:
        raise ValueError(f"unknown document `{document}`")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    _with_vocabulary(schema, policy or default_policy())
    return schema
