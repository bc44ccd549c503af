"""Policy test case files: YAML, validated on load, every problem named by file and line.

A case file (`*.policy.yaml`) pins down decisions of a policy::

    description: agency staff and the sanitised cap
    now: 2026-11-27T10:00:00Z          # default time of every case (optional)
    policy: ../policies/default        # default policy directory (optional)
    readers:                           # named readers, reused by the cases
      agency-ctc: {id: a1, organisation: border-force, employment: agency,
                   vetting: {level: CTC}, nationality: GBR}
      io: ../examples/humber/readers/bf-intel-officer.yaml   # or a path
    items:
      container: ../examples/humber/items/hum-001-container.yaml
    cases:
      - description: an agency officer with SC vetting sees a sanitised view
        name: agency-sc-sanitised      # optional id, unique in the file
        reader: {extends: agency-ctc, vetting: {level: SC}}
        item: container
        now: 2026-11-28T10:00:00Z      # optional, overrides the file's
        expect:
          view: sanitised              # required
          portions: [p1, p2]           # optional: exactly the portion ids shown
          subjects: [s1, s2]           # optional: exactly the subjects shown
          obligations: []              # optional: exactly these obligations
          rules: [cap.agency]          # optional: each is among the reasons
          must_not_contain: [covert]   # optional: in no rendered output

A reader or item is a mapping (inline), a name from the file's `readers` or
`items`, or a path relative to the case file. A mapping with `extends` starts
from the named or linked document and replaces the top-level fields it gives.
Unknown keys anywhere are errors, as in the data contract.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from dissemination.decision import LabelCheck
from dissemination.errors import CaseError, DocumentError, InputError, safe_term
from dissemination.loading import (
    UniqueKeyLoader,
    contract_terms,
    parse_document,
    parse_item,
    parse_principal,
    read_text,
)
from dissemination.models import Item, Principal
from dissemination.parsing import parse_yaml_node
from dissemination.policy import Policy, ProfileSettings
from dissemination.vocabulary import Vocabulary

__all__ = [
    "CASE_SUFFIX",
    "Case",
    "CaseFile",
    "Expectation",
    "Overrides",
    "apply_overrides",
    "discover_case_files",
    "load_case_file",
]

CASE_SUFFIX = ".policy.yaml"
"""Case files end with this; directories are searched for it."""

ViewName = Literal["none", "pointer", "gist", "sanitised", "full"]
Reference = str | dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Expectation(_Strict):
    """What a case expects of the decision.

    Attributes:
        view: the view, by name.
        portions: when given, exactly the ids of the portions shown.
        subjects: when given, exactly the ids of the subjects shown (`s<n>`
            for a subject without an id).
        obligations: when given, exactly the obligations.
        rules: when given, rule ids that must each be among the reasons.
        must_not_contain: strings that must appear in no rendered output (the
            JSON document and the text view).
    """

    view: ViewName
    portions: tuple[str, ...] | None = None
    subjects: tuple[str, ...] | None = None
    obligations: tuple[str, ...] | None = None
    rules: tuple[str, ...] | None = None
    must_not_contain: tuple[str, ...] = ()


class Overrides(_Strict):
    """`with:` decide one case as if the profile were changed (like OPA's `with ... as`).

    The rows stay the same, so a case with overrides still exercises (and
    covers) the rows of the policy under test. This is how the fail-closed
    rows are tested on a profile that cannot otherwise reach them.

    Attributes:
        vocabulary: fields of `vocabulary:` in `profile.yaml` to replace.
        settings: fields of `settings:` to replace (`require_signed_labels`).
        label_signature: what the label-integrity check says of the item
            (`verifies` or `fails`); without it there is no check, which fails
            closed when the profile requires signed labels.
    """

    vocabulary: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    label_signature: Literal["verifies", "fails"] | None = None


class _CaseSpec(_Strict):
    description: str = Field(min_length=1)
    name: str | None = Field(default=None, min_length=1)
    reader: Reference
    item: Reference
    now: AwareDatetime | None = None
    overrides: Overrides | None = Field(default=None, alias="with")
    expect: Expectation


class _FileSpec(_Strict):
    description: str = ""
    policy: str | None = None
    now: AwareDatetime | None = None
    readers: dict[str, Reference] = {}
    items: dict[str, Reference] = {}
    cases: tuple[_CaseSpec, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Case:
    """One resolved case: a reader, an item, when, and what is expected.

    Attributes:
        name: the case's id (its `name`, else its description).
        description: what the case shows, in words.
        path: the case file.
        line: the line the case starts on.
        reader: the reader, validated.
        item: the item, validated.
        now: the time of the decision, when the case or its file gives one.
        expect: the expectations.
        overrides: the case's `with:` block, if any.
    """

    name: str
    description: str
    path: Path
    line: int
    reader: Principal
    item: Item
    now: dt.datetime | None
    expect: Expectation
    overrides: Overrides | None = None

    @property
    def location(self) -> str:
        """`path:line`, for messages."""
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class CaseFile:
    """A loaded case file.

    Attributes:
        path: where it was read from.
        description: what the file covers.
        policy_dir: the policy directory the file names (resolved), if any.
        policy: the policy its readers and items were validated against.
        cases: its cases, in file order.
    """

    path: Path
    description: str
    policy_dir: Path | None
    policy: Policy
    cases: tuple[Case, ...]


_Loader = UniqueKeyLoader  # the same duplicate-rejecting safe loader as items use


def _parse_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    # The readers and parser of items: no FIFO hang, no quoted content, and
    # nothing chained (their messages are ours already).
    failure: CaseError
    try:
        return parse_yaml_node(read_text(path), source=str(path))
    except InputError as exc:
        if exc.detail == "no such file":
            failure = CaseError("no such case file", path=str(path))
        else:
            line = (exc.source or "").removeprefix(str(path)).lstrip(":")
            failure = CaseError(
                exc.detail, path=str(path), line=int(line) if line.isdigit() else None
            )
    raise failure


def _node_at(node: yaml.Node | None, loc: Sequence[int | str]) -> yaml.Node | None:
    """The deepest YAML node along a pydantic error location (for its line)."""
    current = node
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                # `?` stands for a key an error does not quote: the first unknown one.
                if key_node.value == str(part) or (
                    part == "?" and key_node.value not in contract_terms()
                ):
                    child = value_node
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            child = current.value[part]
        if child is None:
            break
        current = child
    return current


def _line(node: yaml.Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def _problem(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
    return message[:1].lower() + message[1:]


_CASE_KEYS = frozenset(
    name
    for model in (_FileSpec, _CaseSpec, Expectation, Overrides)
    for field, info in model.model_fields.items()
    for name in (field, info.alias)
    if name
)
"""The keys of a case file: names an error message may quote."""


def _spec(data: Any, node: yaml.Node | None, path: Path) -> _FileSpec:
    if not isinstance(data, dict):
        raise CaseError("a case file is a mapping with `cases`", path=str(path), line=_line(node))
    try:
        return _FileSpec.model_validate(data)
    except PydanticValidationError as exc:
        # Raised below, outside this block: pydantic's error quotes the input.
        first = exc.errors(include_url=False, include_input=False)[0]
        loc = tuple(first["loc"])
        # Drop pydantic's union branch names (`str`, `dict[str,any]`) from the path,
        # and show a key that is not a term of case files or the contract as `?`:
        # it may be a line of content at the wrong indentation (the line is given).
        known = _CASE_KEYS | contract_terms()
        where = ".".join(
            str(part) if isinstance(part, int) or part in known else "?"
            for part in loc
            if not str(part).startswith(("str", "dict["))
        )
        problem = _problem(first)
        if first["type"] == "extra_forbidden":
            problem = "unknown key"
        failure = CaseError(
            f"`{where}`: {problem}" if where else problem,
            path=str(path),
            line=_line(_node_at(node, loc)),
        )
    raise failure


class _Resolver:
    """Resolves reader and item references of one file, with `extends`."""

    def __init__(self, path: Path, spec: _FileSpec, policy: Policy) -> None:
        self.path = path
        self.libraries = {"reader": spec.readers, "item": spec.items}
        self.policy = policy

    def data(self, kind: str, ref: Reference, chain: tuple[str, ...] = ()) -> dict[str, Any]:
        library = self.libraries[kind]
        if isinstance(ref, dict):
            if "extends" not in ref:
                return ref
            base_ref = ref["extends"]
            if not isinstance(base_ref, str):
                raise ValueError("`extends` names a document or a path")  # noqa: TRY004 (reported as a case error)
            rest = {key: value for key, value in ref.items() if key != "extends"}
            return {**self.data(kind, base_ref, chain), **rest}
        if ref in chain:
            raise ValueError("extends itself")
        if ref in library:
            return self.data(kind, library[ref], (*chain, ref))
        # Raised outside the except blocks: the errors caught quote the reference.
        problem: str | None = None
        try:
            data = parse_document(read_text(self.path.parent / ref), source="")
        except InputError as exc:
            if exc.detail == "no such file":
                problem = f"names neither a {kind} of the file nor a file"
            else:
                problem = f"names a file that cannot be used: {exc.detail}"
        if problem is not None:
            raise ValueError(problem)
        if not isinstance(data, dict):
            raise ValueError("names a file that is not a mapping of fields")  # noqa: TRY004 (reported as a case error)
        return data

    def reader(self, ref: Reference) -> Principal:
        return parse_principal(self.data("reader", ref), source="reader", policy=self.policy)

    def item(self, ref: Reference) -> Item:
        return parse_item(self.data("item", ref), source="item", policy=self.policy)


def apply_overrides(
    policy: Policy, overrides: Overrides | None
) -> tuple[Policy, LabelCheck | None]:
    """The policy (and label check) a case with `with:` is decided by.

    Args:
        policy: the policy under test.
        overrides: the case's `with:` block, or None.

    Returns:
        `Policy.with_profile` of the policy as the block says (the same rows
        and engine, its own digest), and the label check to pass to `decide`.

    Raises:
        ValueError: the replaced vocabulary or settings are not valid.
    """
    if overrides is None:
        return policy, None
    vocabulary, settings = None, None
    problem: str | None = None
    try:
        if overrides.vocabulary:
            data = {**policy.vocabulary.model_dump(), **overrides.vocabulary}
            vocabulary = Vocabulary.model_validate(data)
        if overrides.settings:
            data = {**policy.settings.model_dump(), **overrides.settings}
            settings = ProfileSettings.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        problem = f"`with` `{where}`: {_problem(first)}" if where else _problem(first)
    if problem is not None:  # raised here, unchained: pydantic's error quotes the input
        raise ValueError(problem)
    variant = policy.with_profile(vocabulary=vocabulary, settings=settings)
    if overrides.label_signature is None:
        if variant.settings.require_signed_labels:
            # No trust store is a set-up error, refused by `decide`: say what to expect.
            raise ValueError(
                "`with` requires signed labels: say `label_signature: verifies` or `fails`"
            )
        return variant, None
    verifies = overrides.label_signature == "verifies"
    return variant, lambda _item: verifies


def _case_name(spec: _CaseSpec) -> str:
    return spec.name if spec.name is not None else spec.description


def load_case_file(path: str | Path, *, policy: Policy | None = None) -> CaseFile:
    """Read and validate a case file, resolving its readers and items.

    Args:
        path: the `*.policy.yaml` file.
        policy: the policy to validate readers and items against (and to run
            the cases with); when None, the directory the file names under
            `policy`, else the embedded default.

    Returns:
        The loaded file.

    Raises:
        CaseError: the file is missing, not YAML, has an unknown key or a bad
            value, or a reader or item cannot be resolved or is invalid; the
            message names the file and line.
        PolicyError: the policy directory the file names cannot be loaded.
    """
    from dissemination.policy import load_policy  # noqa: PLC0415 (keeps import cost off `cases`)

    path = Path(path)
    data, root = _parse_yaml(path)
    spec = _spec(data, root, path)
    policy_dir = (path.parent / spec.policy).resolve() if spec.policy is not None else None
    if policy is None:
        policy = load_policy(policy_dir)
    resolver = _Resolver(path, spec, policy)
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for index, case in enumerate(spec.cases):
        case_node = _node_at(root, ("cases", index))
        line = _line(case_node) or 1
        name = _case_name(case)
        if name in seen:
            raise CaseError(
                f"case name {safe_term(name)} is already used on line {seen[name]}",
                path=str(path),
                line=line,
            )
        seen[name] = line
        try:
            apply_overrides(policy, case.overrides)
        except ValueError as exc:
            raise CaseError(
                f"case {safe_term(name)}: {exc}",
                path=str(path),
                line=_line(_node_at(case_node, ("with",))),
            ) from exc
        documents: dict[str, Any] = {}
        for kind in ("reader", "item"):
            ref = case.reader if kind == "reader" else case.item
            try:
                documents[kind] = resolver.reader(ref) if kind == "reader" else resolver.item(ref)
            except DocumentError as exc:
                where = f"`{exc.field}`" if exc.field else "the document"
                field_node = _node_at(case_node, (kind, *exc.field.split(".")))
                raise CaseError(
                    f"case {safe_term(name)}: {kind} {where}: {exc.problem}",
                    path=str(path),
                    line=_line(field_node) or line,
                ) from exc
            except ValueError as exc:
                raise CaseError(
                    f"case {safe_term(name)}: {kind} {exc}",
                    path=str(path),
                    line=_line(_node_at(case_node, (kind,))) or line,
                ) from exc
        _check_must_not_contain(case.expect, documents["item"], name, path, case_node)
        cases.append(
            Case(
                name=name,
                description=case.description,
                path=path,
                line=line,
                reader=documents["reader"],
                item=documents["item"],
                now=case.now or spec.now,
                expect=case.expect,
                overrides=case.overrides,
            )
        )
    return CaseFile(
        path=path,
        description=spec.description,
        policy_dir=policy_dir,
        policy=policy,
        cases=tuple(cases),
    )


def _check_must_not_contain(
    expect: Expectation, item: Item, name: str, path: Path, case_node: yaml.Node | None
) -> None:
    """Refuse a `must_not_contain` string the item does not hold: that check could not fail."""
    if not expect.must_not_contain:
        return
    held = json.dumps(item.model_dump(mode="json"), ensure_ascii=False)
    for index, text in enumerate(expect.must_not_contain):
        if text not in held:
            raise CaseError(
                f"case {safe_term(name)}: `must_not_contain.{index}` is nowhere in the item, "
                "so the check could not fail",
                path=str(path),
                line=_line(_node_at(case_node, ("expect", "must_not_contain"))),
            )


def discover_case_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """The case files named by paths: files as given, directories searched for `*.policy.yaml`.

    Args:
        paths: files and directories.

    Yields:
        Case file paths, directories' contents in sorted order.

    Raises:
        CaseError: a path does not exist, or a directory holds no case file
            (a run of no cases would pass whatever the policy does).
    """
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found = sorted(path.rglob(f"*{CASE_SUFFIX}"))
            if not found:
                raise CaseError(f"no `*{CASE_SUFFIX}` case file in this directory", path=str(path))
            yield from found
        elif path.exists():
            yield path
        else:
            raise CaseError("no such case file or directory", path=str(path))
