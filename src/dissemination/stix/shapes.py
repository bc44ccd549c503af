"""The shapes of our own extensions' contents, checked before an import trusts them.

A bundle can claim to be one of our exports and carry anything in our
extensions. These models check the shape (the JSON Schemas in `schemas/` say
the same for other tools); the data contract then checks the meaning when the
item is built. Content of the wrong shape is a problem of the import (the item
is shown to nobody), never an exception.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

__all__ = ["LabelShape", "MarkingShape", "PortionShape", "SubjectShape", "shaped"]


class _Shape(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class PartyShape(_Shape):
    """An originator or owner in a label."""

    organisation: str
    unit: str
    contact: str | None = None


class LabelShape(_Shape):
    """Our label, as far as the export's reader saw it."""

    id: str
    created: str
    view: Literal["pointer", "gist", "sanitised", "full"]
    owner: PartyShape
    referral: str | None = None
    classification: str | None = None
    required_vetting: str | None = None
    originator: PartyShape | None = None
    handling: list[dict[str, Any]] = []
    grading: dict[str, Any] | None = None
    consents: list[str] = []
    conditions: list[str] = []
    signature: dict[str, Any] | None = None


class MarkingShape(_Shape):
    """A portion's or subject's own marking."""

    min_vetting: str | None = None
    handling: list[dict[str, Any]] = []


class PortionShape(_Shape):
    """Which portion a note holds."""

    id: str
    category: str


class SubjectShape(_Shape):
    """Which subject an observable or identity stands for."""

    type: str
    id: str | None = None
    value: str | None = None
    country: str | None = None
    date_of_birth: str | None = None


def shaped(model: type[_Shape], data: Any) -> dict[str, Any] | None:
    """`data` as plain JSON data when it has `model`'s shape, else None."""
    try:
        value = model.model_validate(data)
    except PydanticValidationError:
        return None
    return value.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
