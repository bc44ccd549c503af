"""The data contract (DESIGN §2, version 1): items, readers, markings, handling.

Every model is a frozen pydantic v2 model that rejects unknown fields. A change
makes a new value (`model_copy(update=...)`); nothing here mutates.

Vocabulary terms (classifications, vetting levels) belong to the profile, not
to this module: validation reads them from the `vocabulary` entry of the
pydantic validation context, and falls back to the embedded default profile's
vocabulary. Load documents through `dissemination.loading` (or pass
`context={"vocabulary": policy.vocabulary}`) to validate against another
profile.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dissemination.errors import safe_term
from dissemination.spans import check_spans
from dissemination.vocabulary import Vocabulary

__all__ = [
    "NOBODY",
    "Descriptor",
    "Embargo",
    "EyesOnly",
    "Grading",
    "Handling",
    "Item",
    "LabelSignature",
    "Marking",
    "NeedToKnow",
    "NoAgencyStaff",
    "NotForEvidence",
    "Originator",
    "OriginatorConsent",
    "Owner",
    "PassportSubject",
    "PersonSubject",
    "Portion",
    "Principal",
    "RecipientsOnly",
    "ReleasableTo",
    "Sanitise",
    "Subject",
    "ValueSubject",
    "Vetting",
    "safe_term",
]


class Model(BaseModel):
    """Base of every contract model: frozen, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# -- small types ------------------------------------------------------------

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\r\n]+$")]
"""A non-empty single-line name (organisation, unit, group, principal id)."""

Text = Annotated[str, Field(min_length=1, max_length=100_000)]
"""Free text of a portion or a title."""

Identifier = Annotated[
    str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
]
"""An item, portion or subject id: letters, digits and `._:/-`."""

Nationality = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
"""An ISO 3166-1 alpha-3 country code (`GBR`)."""

PortionCategory = Literal["tearline", "narrative", "assessment", "source", "method"]
Employment = Literal["crown-servant", "agency", "contractor", "secondee", "partner"]


def _vocabulary(info: ValidationInfo) -> Vocabulary:
    context = info.context
    if isinstance(context, Mapping):
        vocabulary = context.get("vocabulary")
        if isinstance(vocabulary, Vocabulary):
            return vocabulary
    from dissemination.policy import default_vocabulary  # noqa: PLC0415 (cycle: policy reads models)

    return default_vocabulary()


def _canonical_vetting(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    canonical = _vocabulary(info).canonical_vetting(value)
    if canonical is None:
        raise ValueError("unknown vetting level: not a level of the profile")
    return canonical


# -- handling instructions (DESIGN §4), a union discriminated on `kind` ---------


class ReleasableTo(Model):
    """Releasable only to readers of the listed organisations (and the originator's)."""

    kind: Literal["releasable_to"] = "releasable_to"
    organisations: tuple[Name, ...] = Field(min_length=1)


class NoAgencyStaff(Model):
    """Not for agency staff or contractors."""

    kind: Literal["no_agency_staff"] = "no_agency_staff"


class NeedToKnow(Model):
    """Only for members of at least one of the listed need-to-know groups."""

    kind: Literal["need_to_know"] = "need_to_know"
    groups: tuple[Name, ...] = Field(min_length=1)


class OriginatorConsent(Model):
    """Outside the originator's organisation, only with the originator's consent."""

    kind: Literal["originator_consent"] = "originator_consent"


class Embargo(Model):
    """Outside the originator's organisation, nothing before `until`."""

    kind: Literal["embargo"] = "embargo"
    until: AwareDatetime


class Sanitise(Model):
    """Outside the originator's organisation, sanitised, and these categories removed."""

    kind: Literal["sanitise"] = "sanitise"
    categories: tuple[PortionCategory, ...] = Field(min_length=1)


class RecipientsOnly(Model):
    """Only the named principals may know of the item."""

    kind: Literal["recipients_only"] = "recipients_only"
    principals: tuple[Name, ...] = Field(min_length=1)


class EyesOnly(Model):
    """Only readers of the listed nationalities may know of the item."""

    kind: Literal["eyes_only"] = "eyes_only"
    nationalities: tuple[Nationality, ...] = Field(min_length=1)


class NotForEvidence(Model):
    """A caveat: not for use as evidence."""

    kind: Literal["not_for_evidence"] = "not_for_evidence"


class Descriptor(Model):
    """A caveat naming the kind of sensitivity (`PERSONAL DATA`, `LPP`)."""

    kind: Literal["descriptor"] = "descriptor"
    name: Name


Handling = Annotated[
    ReleasableTo
    | NoAgencyStaff
    | NeedToKnow
    | OriginatorConsent
    | Embargo
    | Sanitise
    | RecipientsOnly
    | EyesOnly
    | NotForEvidence
    | Descriptor,
    Field(discriminator="kind"),
]
"""One of the originator's handling instructions."""


class Marking(Model):
    """Restrictions on one portion or subject, added to the item's own.

    A marking that asks for less than the item adds nothing; it is not an error.
    """

    min_vetting: str | None = None
    handling: tuple[Handling, ...] = ()

    @field_validator("min_vetting")
    @classmethod
    def _known_level(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _canonical_vetting(value, info)


# -- parties ------------------------------------------------------------------


class Originator(Model):
    """The organisation and unit that produced the intelligence."""

    organisation: Name
    unit: Name


class Owner(Model):
    """The one owner of an item: who to ask about it."""

    organisation: Name
    unit: Name
    contact: Name


class Grading(Model):
    """The 3x5x2 grading: source, intelligence, handling code and its conditions.

    Handling code `C` (sharing permitted with conditions) requires `conditions`.
    """

    source: Literal["1", "2", "3"]
    intelligence: Literal["A", "B", "C", "D", "E"]
    handling_code: Literal["P", "C"]
    conditions: Text | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _source_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("conditions")
    @classmethod
    def _no_span_markers(cls, value: str | None) -> str | None:
        # Conditions travel to every reader from `gist` up; an inline span
        # (`[[LEVEL: ...]]`) is honoured only in titles and portions, so a marker
        # here would be shown as plain text. Refuse it rather than leak it.
        if value is not None and ("[[" in value or "]]" in value):
            raise ValueError("inline span markers (`[[` or `]]`) are not allowed in `conditions`")
        return value

    @model_validator(mode="after")
    def _conditions_for_c(self) -> Grading:
        if self.handling_code == "C" and not self.conditions:
            raise ValueError("handling code `C` requires `conditions`")
        return self


# -- subjects and portions --------------------------------------------------------


class ValueSubject(Model):
    """A subject identified by one value: a container, vehicle, vessel, phone...

    `id` is optional: decisions name a subject without one `s<n>` by position.
    """

    id: Identifier | None = None
    type: Literal["vehicle", "container", "vessel", "phone", "email", "organisation", "other"]
    value: Name
    marking: Marking | None = None


class PersonSubject(Model):
    """A person, identified by name and date of birth."""

    id: Identifier | None = None
    type: Literal["person"]
    name: Name
    date_of_birth: dt.date | None = None
    marking: Marking | None = None


class PassportSubject(Model):
    """A passport: the issuing country and the document number."""

    id: Identifier | None = None
    type: Literal["passport"]
    country: Nationality
    value: Name
    marking: Marking | None = None


Subject = Annotated[ValueSubject | PersonSubject | PassportSubject, Field(discriminator="type")]
"""What an item is about: the deconfliction keys."""


class Portion(Model):
    """One piece of an item's content, with an optional marking.

    `text` may mark passages that need more vetting: `[[SC: passage]]`
    (`dissemination.spans`); a malformed marker is a validation error.
    """

    id: Identifier
    category: PortionCategory
    text: Text
    marking: Marking | None = None

    @field_validator("text")
    @classmethod
    def _inline_spans(cls, value: str, info: ValidationInfo) -> str:
        return check_spans(value, _vocabulary(info))


# -- the label signature ------------------------------------------------------------

ED25519_SIGNATURE_BYTES = 64


class LabelSignature(Model):
    """The originator's signature over an item's label (`dissemination.integrity`).

    Checked for shape only here: `value` must be standard base64 of an Ed25519
    signature (64 bytes). Whether it verifies is for `verify_label` to say.
    """

    algorithm: Literal["Ed25519"] = "Ed25519"
    organisation: Name
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    value: Annotated[str, Field(min_length=1, max_length=200)]

    @field_validator("value")
    @classmethod
    def _ed25519_signature(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("`value` is not base64") from None
        if len(raw) != ED25519_SIGNATURE_BYTES:
            raise ValueError("`value` is not an Ed25519 signature (64 bytes)")
        return value


# -- the item ---------------------------------------------------------------------


class Item(Model):
    """An intelligence item: one owner, the originator's handling, its content."""

    id: Identifier
    version: int = Field(default=1, ge=1, le=2_000_000_000)
    """The revision of this item's label: signed with it, so a replayed older
    version can be told from the newest (`decide(..., superseded=...)`)."""
    title: Text
    created: AwareDatetime
    classification: str
    required_vetting: str | None = None
    originator: Originator
    owner: Owner
    handling: tuple[Handling, ...] = ()
    grading: Grading | None = None
    consents: tuple[Name, ...] = ()
    subjects: tuple[Subject, ...] = ()
    portions: tuple[Portion, ...] = Field(min_length=1)
    signature: LabelSignature | None = None
    """The originator's signature over the item's label (see `dissemination.integrity`)."""

    @field_validator("title")
    @classmethod
    def _title_spans(cls, value: str, info: ValidationInfo) -> str:
        return check_spans(value, _vocabulary(info))

    @field_validator("classification")
    @classmethod
    def _known_classification(cls, value: str, info: ValidationInfo) -> str:
        canonical = _vocabulary(info).canonical_classification(value)
        if canonical is None:
            raise ValueError("unknown classification: not a classification of the profile")
        return canonical

    @field_validator("required_vetting")
    @classmethod
    def _known_level(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _canonical_vetting(value, info)

    @model_validator(mode="after")
    def _label_consistent(self, info: ValidationInfo) -> Item:
        vocabulary = _vocabulary(info)
        floor = vocabulary.default_vetting(self.classification)
        if self.required_vetting is None:
            # Frozen model: set the default once, during validation.
            object.__setattr__(self, "required_vetting", floor)
        elif vocabulary.vetting_rank(self.required_vetting) < vocabulary.vetting_rank(floor):
            raise ValueError(
                f"`required_vetting` `{self.required_vetting}` is below `{floor}`, "
                f"the least that `{self.classification}` needs"
            )
        seen: set[str] = set()
        for index, portion in enumerate(self.portions):
            if portion.id in seen:
                raise ValueError(f"a portion id is used twice (portion {index + 1})")
            seen.add(portion.id)
        subject_ids = [subject.id for subject in self.subjects if subject.id is not None]
        if len(set(subject_ids)) != len(subject_ids):
            raise ValueError("a subject id is used twice")
        return self

    @property
    def vetting_required(self) -> str:
        """The vetting the item requires (set from the classification if not given)."""
        assert self.required_vetting is not None  # noqa: S101 (set by the validator)
        return self.required_vetting

    def subject_key(self, index: int) -> str:
        """The id by which a subject is named in decisions: its `id`, or `s<n>`.

        Args:
            index: the subject's 0-based position in `subjects`.

        Returns:
            The subject's `id` when it has one, else `s1`, `s2`, ... by position.
        """
        subject = self.subjects[index]
        return subject.id if subject.id is not None else f"s{index + 1}"


# -- the reader -------------------------------------------------------------------


class Vetting(Model):
    """A reader's vetting clearance; it counts as none from 00:00 UTC on `expires`.

    `expires` is a date read in UTC: the clearance is held until the instant
    `expires`T00:00:00Z and not from then on, whatever zone `now` is written in.
    """

    level: str
    expires: dt.date | None = None

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str, info: ValidationInfo) -> str:
        canonical = _canonical_vetting(value, info)
        assert canonical is not None  # noqa: S101 (value is a str here)
        return canonical


NOBODY = "stix-import:nobody"
"""The reserved principal id that `recipients_only` names on an item shown to nobody.

An imported item whose markings cannot be mapped carries `recipients_only` of
this id alone (dissemination.stix). No principal may hold it: loading refuses
a principal document with this id, so such an item is shown to no reader.
"""


class Principal(Model):
    """A reader: who they are, whom they work for, and what they hold."""

    id: Name
    organisation: Name
    employment: Employment
    vetting: Vetting | None = None
    nationality: Nationality
    roles: tuple[Name, ...] = ()
    groups: tuple[Name, ...] = ()

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        # The id that marks an item as shown to nobody: a reader holding it
        # would be the one recipient of every such item.
        if value.casefold() == NOBODY:
            raise ValueError("reserved id: no principal may hold it")
        return value

    @field_validator("employment")
    @classmethod
    def _known_employment(cls, value: str, info: ValidationInfo) -> str:
        # A type the profile lacks has no row to cap it: refuse it, as an
        # unknown vetting level is refused, rather than decide without it.
        if value not in _vocabulary(info).employment:
            raise ValueError("unknown employment: not an employment type of the profile")
        return value
