"""The `stix:` section of a profile: TLP and ACS mapping tables, checked at load.

Pure pydantic (no python-stix2): the policy loader validates this section with
the rest of `profile.yaml`. A term the export tables name must be one the
profile knows; a term they do not name gets `red`, the most restrictive hint
(so a vocabulary can grow without its exports ever becoming less restrictive).
Every import entry must be a handling instruction the profile knows once its
placeholders are filled:

- `$originator`: the organisation of the object's creator;
- `$receiver`: the importing organisation (`--receiver`), dropped when not given;
- `$recipients`: the named recipients (`--recipient`), none when not given.

A list that is empty once filled makes the item shown to nobody.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
)
from pydantic import ValidationError as PydanticValidationError

from dissemination.models import Handling
from dissemination.stix.constants import TLP_LEVELS, TlpLevel
from dissemination.vocabulary import Vocabulary

__all__ = [
    "PLACEHOLDERS",
    "AcsTables",
    "ExportTables",
    "ImportTables",
    "StixProfile",
    "StixTables",
    "fill_placeholders",
]

PLACEHOLDERS = ("$originator", "$receiver", "$recipients")
"""The names an import entry may use in place of an organisation or principal."""

_HANDLING: TypeAdapter[Any] = TypeAdapter(Handling)


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExportTables(_Table):
    """The TLP 2.0 hint of an export: the most restrictive level of the label's terms."""

    tlp_by_classification: dict[str, TlpLevel]
    tlp_by_vetting: dict[str, TlpLevel]
    tlp_by_handling: dict[str, TlpLevel]
    tlp_at_pointer: TlpLevel = "red"

    def classification(self, term: object) -> TlpLevel:
        """The hint for a classification (`red` when the table does not name it)."""
        return self.tlp_by_classification.get(term, "red") if isinstance(term, str) else "red"

    def vetting(self, term: object) -> TlpLevel:
        """The hint for a vetting level (`red` when the table does not name it)."""
        return self.tlp_by_vetting.get(term, "red") if isinstance(term, str) else "red"

    def handling(self, kind: object) -> TlpLevel:
        """The hint for a handling kind (`red` when the table does not name it)."""
        return self.tlp_by_handling.get(kind, "red") if isinstance(kind, str) else "red"


class AcsTables(_Table):
    """ACS 3.0 control sets: classification codes, and the entity that means contractors."""

    classification: dict[str, str]
    contractor_entities: tuple[str, ...] = ("CTR",)
    organisations: dict[str, str] = {}


class ImportTables(_Table):
    """How imported markings become handling instructions."""

    classification: str
    organisations: dict[str, str] = {}
    tlp: dict[TlpLevel, tuple[dict[str, Any], ...]]
    acs: AcsTables


class StixProfile(_Table):
    """The whole `stix:` section."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    export: ExportTables
    import_: ImportTables = Field(alias="import")


def fill_placeholders(
    entry: dict[str, Any], *, originator: str, receiver: str | None, recipients: tuple[str, ...]
) -> dict[str, Any]:
    """An import entry with its placeholders replaced (lists may come out empty).

    Args:
        entry: one handling document of the `tlp` table.
        originator: the organisation of the object's creator.
        receiver: the importing organisation, if known.
        recipients: the named recipients.

    Returns:
        The handling document with names in place of placeholders.
    """
    values: dict[str, tuple[str, ...]] = {
        "$originator": (originator,),
        "$receiver": (receiver,) if receiver else (),
        "$recipients": recipients,
    }
    filled: dict[str, Any] = {}
    for key, value in entry.items():
        if isinstance(value, list | tuple):
            names: list[Any] = []
            for element in value:
                names.extend(
                    values.get(element, (element,)) if isinstance(element, str) else [element]
                )
            filled[key] = list(dict.fromkeys(names))
        else:
            filled[key] = value
    return filled


def _check_terms(value: StixProfile, info: ValidationInfo) -> StixProfile:
    vocabulary = info.data.get("vocabulary")
    if not isinstance(vocabulary, Vocabulary):
        return value  # the vocabulary failed its own validation, which is reported instead
    export = value.export
    for name, table, terms in (
        ("tlp_by_classification", export.tlp_by_classification, list(vocabulary.classifications)),
        ("tlp_by_vetting", export.tlp_by_vetting, list(vocabulary.vetting_levels)),
        ("tlp_by_handling", export.tlp_by_handling, list(vocabulary.handling_kinds)),
    ):
        extra = [term for term in table if term not in terms]
        if extra:
            raise ValueError(f"`stix.export.{name}` names `{extra[0]}`, unknown to the profile")
    imports = value.import_
    classifications = [imports.classification, *imports.acs.classification.values()]
    for classification in classifications:
        if vocabulary.canonical_classification(classification) is None:
            raise ValueError(f"`stix.import` names classification `{classification}`, unknown")
    missing = [level for level in TLP_LEVELS if level not in imports.tlp]
    if missing:
        raise ValueError(f"`stix.import.tlp` has no entry for `{missing[0]}`")
    for level, entries in imports.tlp.items():
        for entry in entries:
            sample = fill_placeholders(
                entry, originator="org", receiver="org", recipients=("someone",)
            )
            try:
                rule = _HANDLING.validate_python(sample)
            except PydanticValidationError:
                raise ValueError(
                    f"`stix.import.tlp.{level}` has an invalid handling entry"
                ) from None
            if rule.kind not in vocabulary.handling_kinds:
                raise ValueError(f"`stix.import.tlp.{level}` uses `{rule.kind}`, unknown")
    return value


StixTables = Annotated[StixProfile, AfterValidator(_check_terms)]
"""The `stix:` section, checked against the profile's vocabulary (declared before it)."""
