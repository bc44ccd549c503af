"""Reading items and readers from JSON, YAML and JSON Lines: the file adapter.

Every failure becomes one `InputError` naming the file and, for a document that
breaks the contract, the field; never a traceback and never the field's value.
Duplicate keys are an error in JSON and YAML alike (a second `handling` key
silently replacing the first would change a label unseen).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from dissemination.errors import DocumentError, InputError
from dissemination.models import Item, Principal, safe_term
from dissemination.policy import Policy, default_policy

__all__ = [
    "DOCUMENT_SUFFIXES",
    "UniqueKeyLoader",
    "iter_items",
    "load_item",
    "load_principal",
    "load_principals",
    "parse_document",
    "parse_item",
    "parse_principal",
]

DOCUMENT_SUFFIXES = (".json", ".yaml", ".yml")
"""Files in a directory of items or readers that are read; others are ignored."""

ModelT = TypeVar("ModelT", bound=BaseModel)


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate mapping keys."""


def _construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {safe_term(key)}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {safe_term(key)}")
        result[key] = value
    return result


def parse_document(text: str, *, source: str, yaml_ok: bool = True) -> Any:
    """Parse JSON (or YAML when `yaml_ok`) text into plain data.

    JSON is tried first when the text starts with `{` or `[`.

    Args:
        text: the document.
        source: where it came from, for messages.
        yaml_ok: whether YAML is accepted.

    Returns:
        The parsed data.

    Raises:
        InputError: the text is not valid JSON or YAML, or repeats a key.
    """
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")) or not yaml_ok:
        try:
            return json.loads(text, object_pairs_hook=_unique_object)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON ({exc.msg.lower()} at line {exc.lineno}, column {exc.colno})",
                source=source,
            ) from exc
        except ValueError as exc:
            raise InputError(f"not valid JSON ({exc})", source=source) from exc
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "syntax error"
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"not valid YAML ({problem}{where})", source=source) from exc


def _field_path(loc: Iterable[int | str]) -> str:
    # An unknown key is input, and may be content (a mis-indented line of text):
    # named like any other term (`models.safe_term`), unquoted by the backticks.
    return ".".join(safe_term(part).strip("`") for part in loc)


def _problem(error: Any) -> str:
    context = error.get("ctx") or {}
    if error["type"] == "union_tag_invalid":
        expected = context.get("expected_tags", "")
        return (
            f"unknown {context.get('discriminator', 'tag').strip(chr(39))} "
            f"{safe_term(context.get('tag'))}; expected one of {expected}"
        )
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    message = " ".join(message.rstrip(".").split())
    return message[:1].lower() + message[1:]


def _validate(
    model: type[ModelT], data: Any, *, document: str, source: str, policy: Policy
) -> ModelT:
    if not isinstance(data, dict):
        raise DocumentError(
            document=document, field="", problem="expected a mapping of fields", source=source
        )
    try:
        return model.model_validate(data, context={"vocabulary": policy.vocabulary})
    except PydanticValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        raise DocumentError(
            document=document,
            field=_field_path(first["loc"]),
            problem=_problem(first),
            source=source,
        ) from exc


def parse_item(data: Any, *, source: str = "<item>", policy: Policy | None = None) -> Item:
    """Validate plain data as an item.

    Args:
        data: parsed JSON or YAML.
        source: where it came from, for messages.
        policy: the profile whose vocabulary applies (the default when None).

    Returns:
        The item.

    Raises:
        DocumentError: the data breaks the contract; names the field.
    """
    return _validate(Item, data, document="item", source=source, policy=policy or default_policy())


def parse_principal(
    data: Any, *, source: str = "<principal>", policy: Policy | None = None
) -> Principal:
    """Validate plain data as a reader (principal).

    Args:
        data: parsed JSON or YAML.
        source: where it came from, for messages.
        policy: the profile whose vocabulary applies (the default when None).

    Returns:
        The reader.

    Raises:
        DocumentError: the data breaks the contract; names the field.
    """
    return _validate(
        Principal, data, document="principal", source=source, policy=policy or default_policy()
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", source=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", source=str(path)) from exc
    except OSError as exc:
        raise InputError(
            f"cannot read ({exc.strerror or type(exc).__name__})", source=str(path)
        ) from exc


def load_item(path: str | Path, *, policy: Policy | None = None) -> Item:
    """Read one item from a JSON or YAML file.

    Raises:
        InputError: the file is missing, unreadable, or not a valid item.
    """
    path = Path(path)
    data = parse_document(_read(path), source=str(path))
    return parse_item(data, source=str(path), policy=policy)


def load_principal(path: str | Path, *, policy: Policy | None = None) -> Principal:
    """Read one reader from a JSON or YAML file.

    Raises:
        InputError: the file is missing, unreadable, or not a valid reader.
    """
    path = Path(path)
    data = parse_document(_read(path), source=str(path))
    return parse_principal(data, source=str(path), policy=policy)


def _directory_files(directory: Path) -> list[Path]:
    return sorted(
        path for path in directory.iterdir() if path.is_file() and path.suffix in DOCUMENT_SUFFIXES
    )


def load_principals(path: str | Path, *, policy: Policy | None = None) -> list[Principal]:
    """Read every reader from a directory of files (or one file).

    Raises:
        InputError: a file is missing or not a valid reader.
    """
    path = Path(path)
    if path.is_dir():
        return [load_principal(file, policy=policy) for file in _directory_files(path)]
    return [load_principal(path, policy=policy)]


def iter_items(path: str | Path, *, policy: Policy | None = None) -> Iterator[Item]:
    """Stream items from a directory of item files, a JSON Lines file, or one file.

    A JSON Lines file (`.jsonl`) is read one line at a time, so memory stays
    constant however long it is. Blank lines are skipped. An error names the
    file and line.

    Args:
        path: a directory, a `.jsonl` file, or a single JSON or YAML item.
        policy: the profile whose vocabulary applies (the default when None).

    Yields:
        Items, in file (or sorted file name) order.

    Raises:
        InputError: a file or line is missing, unreadable or not a valid item.
    """
    path = Path(path)
    if path.is_dir():
        for file in _directory_files(path):
            yield load_item(file, policy=policy)
        return
    if path.suffix != ".jsonl":
        yield load_item(path, policy=policy)
        return
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", source=str(path)) from None
    except OSError as exc:
        raise InputError(
            f"cannot read ({exc.strerror or type(exc).__name__})", source=str(path)
        ) from exc
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                source = f"{path}:{number}"
                data = parse_document(line, source=source, yaml_ok=False)
                yield parse_item(data, source=source, policy=policy)
        except UnicodeDecodeError as exc:
            raise InputError("not UTF-8 text", source=str(path)) from exc
