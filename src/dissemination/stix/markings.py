"""What a STIX marking definition means here: handling, a classification, or nothing we can map.

Import and filter read markings through `MarkingReader.meaning`, which fails
closed: a definition the profile's tables cannot map, or a reference to a
definition neither in the bundle nor in a known set (TLP 1.0, TLP 2.0), is a
`Meaning` with `problem` set, and the object it marks is shown to nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from dissemination.models import NOBODY, Handling
from dissemination.policy import Policy
from dissemination.stix.constants import (
    ACS_EXTENSION,
    LABEL_EXTENSION,
    TLP1_IDS,
    TLP2_EXTENSION,
    TLP2_IDS,
    TLP_LEVELS,
    TlpLevel,
)
from dissemination.stix.profile import StixProfile, fill_placeholders
from dissemination.stix.shapes import LabelShape, MarkingShape, shaped

__all__ = ["NOBODY", "MarkingReader", "Meaning"]

_HANDLING: TypeAdapter[Any] = TypeAdapter(Handling)

_ACS_METADATA = frozenset(
    {
        "extension_type",
        "identifier",
        "create_date_time",
        "name",
        "policy_reference",
        "responsible_entity_custodian",
        "responsible_entity_originator",
        "authority_reference",
        "original_classification",
        "derivative_classification",
        "public_release",
        "resource_disposition",
        "declassification",
    }
)
"""ACS 3.0 properties that describe the marking and restrict nothing (kept out of the mapping)."""

_ACS_MAPPED = frozenset({"classification", "country", "entity", "org"})
"""ACS 3.0 control-set properties the profile's tables map; any other one is unmappable."""

_TLP1_NAMES: dict[str, TlpLevel] = {
    "white": "clear",
    "green": "green",
    "amber": "amber",
    "red": "red",
}


@dataclass(frozen=True, slots=True)
class Meaning:
    """What one marking definition means for an item.

    Attributes:
        name: how the summary names it (`TLP:AMBER`, `statement`, `ACS 3.0`).
        handling: the handling instructions it adds.
        classification: the classification it sets, if any.
        label: our label (from our extension), if it is one.
        marking: our part marking (from our extension), if it is one.
        tlp: its TLP level, if it is a TLP marking.
        problem: why it cannot be mapped (the item is then shown to nobody).
        notes: what the mapping had to fill in (a list with no names: nobody).
    """

    name: str
    handling: tuple[Handling, ...] = ()
    classification: str | None = None
    label: dict[str, Any] | None = None
    marking: dict[str, Any] | None = None
    tlp: TlpLevel | None = None
    problem: str | None = None
    notes: tuple[str, ...] = field(default=())


class MarkingReader:
    """Reads the marking definitions of one bundle against a profile's tables."""

    def __init__(
        self,
        definitions: dict[str, dict[str, Any]],
        *,
        policy: Policy,
        tables: StixProfile,
        receiver: str | None,
        recipients: tuple[str, ...],
    ) -> None:
        """Remember the bundle's marking definitions (by id) and the import context.

        Args:
            definitions: the bundle's marking-definition objects, by id.
            policy: the profile (its vocabulary).
            tables: its `stix:` tables.
            receiver: the importing organisation (`$receiver`), if known.
            recipients: the named recipients (`$recipients`).
        """
        self.definitions = definitions
        self.policy = policy
        self.tables = tables
        self.receiver = receiver
        self.recipients = recipients

    def meaning(self, ref: object, *, originator: str) -> Meaning:
        """What the marking definition `ref` means for an object created by `originator`."""
        if not isinstance(ref, str):
            return Meaning("marking reference", problem="a marking reference is not a string")
        level = TLP2_IDS.get(ref) or TLP1_IDS.get(ref)
        if level is not None:
            return self.tlp(level, originator=originator)
        definition = self.definitions.get(ref)
        if definition is None:
            return Meaning(
                "marking reference", problem="refers to a marking definition not in the bundle"
            )
        return self._definition(definition, originator=originator)

    def tlp(self, level: TlpLevel, *, originator: str) -> Meaning:
        """The handling the profile gives a TLP level."""
        name = f"TLP:{level.upper()}"
        rules: list[Handling] = []
        notes: list[str] = []
        for entry in self.tables.import_.tlp[level]:
            filled = fill_placeholders(
                entry, originator=originator, receiver=self.receiver, recipients=self.recipients
            )
            for key, value in filled.items():
                if value == []:  # no names for a list: nobody is named, so nobody may see it
                    filled[key] = [NOBODY]
                    notes.append(f"no names for `{key}`: nobody")
            try:
                rules.append(_HANDLING.validate_python(filled))
            except PydanticValidationError:
                return Meaning(name, tlp=level, problem=f"{name} does not map to handling")
        return Meaning(name, handling=tuple(rules), tlp=level, notes=tuple(notes))

    def _definition(  # noqa: PLR0911 (one return per kind of definition reads best)
        self, definition: dict[str, Any], *, originator: str
    ) -> Meaning:
        extensions = definition.get("extensions") or {}
        if not isinstance(extensions, dict):
            return Meaning("marking definition", problem="its extensions are not an object")
        if LABEL_EXTENSION in extensions:
            return _ours(extensions[LABEL_EXTENSION])
        if TLP2_EXTENSION in extensions:
            level = (extensions[TLP2_EXTENSION] or {}).get("tlp_2_0")
            if level in TLP_LEVELS:
                return self.tlp(level, originator=originator)
            return Meaning("TLP 2.0", problem="a TLP 2.0 level we do not know")
        if ACS_EXTENSION in extensions:
            return self._acs(extensions[ACS_EXTENSION])
        if extensions:
            return Meaning("marking definition", problem="an extension the profile cannot map")
        kind = definition.get("definition_type")
        content = definition.get("definition") or {}
        if kind == "tlp" and isinstance(content, dict) and content.get("tlp") in _TLP1_NAMES:
            return self.tlp(_TLP1_NAMES[content["tlp"]], originator=originator)
        if kind == "statement" and isinstance(content, dict):
            return _statement(content.get("statement"))
        return Meaning("marking definition", problem="a definition type the profile cannot map")

    def _acs(self, acs: Any) -> Meaning:  # noqa: PLR0911 (one return per unmappable case)
        name = "ACS 3.0"
        if not isinstance(acs, dict):
            return Meaning(name, problem="the ACS marking is not an object")
        unknown = [key for key in acs if key not in _ACS_METADATA and key != "control_set"]
        if unknown:
            return Meaning(name, problem="ACS properties the profile cannot map")
        controls = acs.get("control_set")
        if not isinstance(controls, dict):
            return Meaning(name, problem="an ACS marking without a control set")
        if any(key not in _ACS_MAPPED for key in controls):
            return Meaning(name, problem="ACS control-set properties the profile cannot map")
        tables = self.tables.import_.acs
        code = controls.get("classification")
        classification = tables.classification.get(code) if isinstance(code, str) else None
        if classification is None:
            return Meaning(name, problem="an ACS classification the profile cannot map")
        entries: list[dict[str, Any]] = []
        countries = controls.get("country")
        if countries is not None:
            entries.append({"kind": "eyes_only", "nationalities": countries})
        orgs = controls.get("org")
        if orgs is not None:
            organisations = [
                tables.organisations.get(o, o) if isinstance(o, str) else o for o in orgs
            ]
            entries.append({"kind": "releasable_to", "organisations": organisations})
        entities = controls.get("entity")
        if entities is not None:
            if not isinstance(entities, list):
                return Meaning(name, problem="an ACS entity list that is not a list")
            if not set(entities) & set(tables.contractor_entities):
                entries.append({"kind": "no_agency_staff"})
        rules: list[Handling] = []
        for entry in entries:
            try:
                rules.append(_HANDLING.validate_python(entry))
            except PydanticValidationError:
                return Meaning(name, problem=f"an ACS `{entry['kind']}` the profile cannot map")
        return Meaning(name, handling=tuple(rules), classification=classification)


def _ours(content: Any) -> Meaning:
    if not isinstance(content, dict):
        return Meaning("dissemination label", problem="our label extension is not an object")
    if "label" in content:
        label = shaped(LabelShape, content["label"])
        if label is None:
            return Meaning("dissemination label", problem="our label is malformed")
        return Meaning("dissemination label", label=label)
    if "marking" in content:
        marking = shaped(MarkingShape, content["marking"])
        if marking is None:
            return Meaning("dissemination marking", problem="our part marking is malformed")
        return Meaning("dissemination marking", marking=marking)
    return Meaning("dissemination label", problem="our label extension holds no label")


def _statement(statement: Any) -> Meaning:
    if not isinstance(statement, str):
        return Meaning("statement", problem="a statement that is not text")
    words = " ".join(statement.split())
    try:
        rule = _HANDLING.validate_python({"kind": "descriptor", "name": words})
    except PydanticValidationError:
        return Meaning("statement", problem="a statement too long for a descriptor")
    return Meaning("statement", handling=(rule,))
