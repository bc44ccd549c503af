"""The ordered vocabularies of a profile: vetting levels, classifications, views.

The terms themselves are data: they are read from a profile's `profile.yaml`
(`policies/default/profile.yaml` for the embedded UK default), never written as
Python constants. This module holds the value type and the pure comparisons on
it; `policy.py` reads it from disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["NO_VETTING", "TermProblem", "View", "Vocabulary", "vocabulary_problems"]

NO_VETTING = -1
"""The rank of a reader with no vetting, or with vetting that has expired."""


class View(IntEnum):
    """The redacted forms of an item, ordered worst to best.

    `min(view, cap)` is the view a cap leaves; the integer order is the
    contract of DESIGN §2 (`none < pointer < gist < sanitised < full`).
    """

    NONE = 0
    POINTER = 1
    GIST = 2
    SANITISED = 3
    FULL = 4

    @property
    def label(self) -> str:
        """The lowercase name used in files and output (`sanitised`)."""
        return self.name.lower()

    def __str__(self) -> str:
        """The label: `print(decision.view)` prints `gist`, not `2`."""
        return self.label

    @classmethod
    def parse(cls, text: str) -> View:
        """Read a view from its lowercase name.

        Args:
            text: `none`, `pointer`, `gist`, `sanitised` or `full`.

        Returns:
            The view.

        Raises:
            ValueError: the name is not a view.
        """
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown view `{text}`") from None


Term = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9 _-]*$")]


class Vocabulary(BaseModel):
    """The terms a profile knows, in order where order matters.

    Attributes:
        vetting_levels: vetting levels, lowest first (`BPSS` ... `eDV`).
        baseline_vetting: the least vetting that lets a reader see a gist.
        classifications: each classification and the vetting it needs by default.
        handling_kinds: the handling-instruction kinds the profile knows; an
            item carrying any other kind is shown to nobody.
        employment: the employment types a reader may have.
        portion_categories: the categories of portion content.
        subject_types: the types of subject (the deconfliction keys).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    vetting_levels: tuple[Term, ...] = Field(min_length=1)
    baseline_vetting: Term
    classifications: dict[Term, Term] = Field(min_length=1)
    handling_kinds: tuple[Term, ...]
    employment: tuple[Term, ...] = Field(min_length=1)
    portion_categories: tuple[Term, ...] = Field(min_length=1)
    subject_types: tuple[Term, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Vocabulary:
        problems = vocabulary_problems(self.model_dump())
        if problems:
            raise ValueError(problems[0].message)
        return self

    def vetting_rank(self, level: str) -> int:
        """The position of a vetting level in the scale, lowest 0.

        Args:
            level: a vetting level, in any case (`sc` is `SC`).

        Returns:
            Its rank.

        Raises:
            KeyError: the level is not in the scale.
        """
        return self._vetting_index[level.casefold()]

    def canonical_vetting(self, level: str) -> str | None:
        """The profile's spelling of a vetting level, or None when unknown."""
        index = self._vetting_index.get(level.casefold())
        return None if index is None else self.vetting_levels[index]

    def canonical_classification(self, name: str) -> str | None:
        """The profile's spelling of a classification, or None when unknown."""
        wanted = name.casefold()
        for known in self.classifications:
            if known.casefold() == wanted:
                return known
        return None

    def default_vetting(self, classification: str) -> str:
        """The vetting level a classification needs when the item names none.

        Raises:
            KeyError: the classification is unknown.
        """
        return self.classifications[classification]

    @cached_property
    def _vetting_index(self) -> dict[str, int]:
        # Computed once per vocabulary: frozen models allow cached properties.
        return {level.casefold(): rank for rank, level in enumerate(self.vetting_levels)}


@dataclass(frozen=True, slots=True)
class TermProblem:
    """One inconsistency of a vocabulary.

    Attributes:
        loc: where, as a path into the vocabulary (`("employment", 2)`,
            `("classifications", "SECRET")`).
        message: one lowercase line.
    """

    loc: tuple[str | int, ...]
    message: str


_TERM_LISTS = (
    "vetting_levels",
    "classifications",
    "handling_kinds",
    "employment",
    "portion_categories",
    "subject_types",
)


def _quoted(term: object) -> str:
    text = str(term)
    return f"`{text}`" if len(text) <= 64 and "`" not in text else "a term"


def _repeats(name: str, terms: Iterable[Any]) -> Iterable[TermProblem]:
    seen: dict[str, str] = {}
    for index, term in enumerate(terms):
        folded = str(term).casefold()
        first = seen.get(folded)
        where: tuple[str | int, ...] = (name, term if name == "classifications" else index)
        if first is None:
            seen[folded] = str(term)
        elif first == str(term):
            yield TermProblem(where, f"`{name}` repeats {_quoted(term)}")
        else:
            yield TermProblem(
                where, f"`{name}`: {_quoted(term)} differs from {_quoted(first)} only in case"
            )


def vocabulary_problems(fields: Mapping[str, Any]) -> list[TermProblem]:
    """Every inconsistency of a vocabulary's fields, each with where it is.

    The one set of vocabulary checks: `Vocabulary` raises the first, and
    `dissemination lint` reports them all (with the file's lines). A term that
    differs from another of its list only in case is a problem, because terms
    are matched without regard to case (`sc` is `SC`) and two spellings would
    make one of them unreachable or ambiguous.

    Args:
        fields: the vocabulary's fields, as validated (each list a sequence of
            strings, `classifications` a mapping).

    Returns:
        The problems, each with `loc` (a path into the vocabulary: a field and
        the index of a term, or the classification) and `message`.
    """
    problems: list[TermProblem] = []
    for name in _TERM_LISTS:
        problems.extend(_repeats(name, fields.get(name) or ()))
    levels = [str(level) for level in fields.get("vetting_levels") or ()]
    baseline = fields.get("baseline_vetting")
    if baseline is not None and str(baseline) not in levels:
        problems.append(
            TermProblem(
                ("baseline_vetting",),
                f"`baseline_vetting` {_quoted(baseline)} is not a vetting level",
            )
        )
    for classification, needs in (fields.get("classifications") or {}).items():
        if str(needs) not in levels:
            problems.append(
                TermProblem(
                    ("classifications", classification),
                    f"classification {_quoted(classification)} needs {_quoted(needs)}, "
                    "which is not a vetting level",
                )
            )
    return problems
