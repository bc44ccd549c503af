"""Reading items and readers from JSON, YAML and JSON Lines: the file adapter.

Every failure becomes one `InputError` naming the file and, for a document that
breaks the contract, the field; never a traceback and never the field's value.
Duplicate keys are an error in JSON and YAML alike (a second `handling` key
silently replacing the first would change a label unseen).
"""

from __future__ import annotations

import functools
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from dissemination.errors import DocumentError, InputError
from dissemination.models import Item, Principal
from dissemination.parsing import (
    MAX_DOCUMENT_BYTES,
    DocumentLoader,
    decode,
    node_line,
    open_regular,
    parse_document,
    parse_document_node,
    read_text,
)
from dissemination.policy import Policy, default_policy

__all__ = [
    "DOCUMENT_SUFFIXES",
    "MAX_DOCUMENT_BYTES",
    "STDIN",
    "OnError",
    "UniqueKeyLoader",
    "contract_terms",
    "field_path",
    "iter_items",
    "iter_sourced_items",
    "load_item",
    "load_principal",
    "load_principals",
    "parse_document",
    "parse_item",
    "parse_principal",
    "read_text",
]

DOCUMENT_SUFFIXES = (".json", ".yaml", ".yml")
"""Files in a directory of items or readers that are read; others are ignored."""


STDIN = "-"
"""The path that means standard input (`iter_items` only)."""

ModelT = TypeVar("ModelT", bound=BaseModel)

OnError = Callable[[InputError], object]
"""What `iter_items` calls with each record it cannot use, when skipping them."""


UniqueKeyLoader = DocumentLoader
"""The safe YAML loader every document is read with (`dissemination.parsing.DocumentLoader`)."""


@functools.cache
def contract_terms() -> frozenset[str]:
    """The field names and tags of the data contract: names an error message may quote."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                names.update(str(name) for name in properties)
            if isinstance(node.get("const"), str):  # a union's tag: `person`, `embargo`
                names.add(node["const"])
            if isinstance(node.get("enum"), list):
                names.update(str(term) for term in node["enum"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(Item.model_json_schema())
    walk(Principal.model_json_schema())
    return frozenset(names)


def field_path(loc: Iterable[int | str]) -> str:
    """A pydantic error location as a dotted path that quotes no document content.

    Positions, field names and tags of the data contract are shown; any other
    part (an unknown key, which may be a line of content typed at the wrong
    indentation) is shown as `?`.

    Args:
        loc: pydantic's location of an error.

    Returns:
        The path, e.g. `portions.2.marking`.
    """
    known = contract_terms()
    return ".".join(
        str(part) if isinstance(part, int) or str(part) in known else "?" for part in loc
    )


def _problem(error: Any) -> str:
    context = error.get("ctx") or {}
    if error["type"] == "union_tag_invalid":
        expected = context.get("expected_tags", "")
        discriminator = str(context.get("discriminator", "tag")).strip("'")
        return f"unknown {discriminator}; expected one of {expected}"
    if error["type"] == "extra_forbidden":
        return "unknown field (not in the data contract)"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    message = " ".join(message.rstrip(".").split())
    return message[:1].lower() + message[1:]


def _validate(
    model: type[ModelT],
    data: Any,
    *,
    document: str,
    source: str,
    policy: Policy,
    node: yaml.Node | None = None,
) -> ModelT:
    if not isinstance(data, dict):
        raise DocumentError(
            document=document, field="", problem="expected a mapping of fields", source=source
        )
    try:
        return model.model_validate(data, context={"vocabulary": policy.vocabulary})
    except PydanticValidationError as exc:
        # pydantic's error quotes the input (`input_value=...`): keep only the
        # location and kind, and raise outside this block so that nothing of
        # it is chained to the error we raise.
        first = exc.errors(include_url=False, include_input=False, include_context=True)[0]
        line = node_line(node, first["loc"])
        failure = DocumentError(
            document=document,
            field=field_path(first["loc"]),
            problem=_problem(first),
            source=source if line is None else f"{source}:{line}",
        )
    except (RecursionError, ValueError, TypeError, OverflowError):
        failure = DocumentError(
            document=document, field="", problem="a value that cannot be read", source=source
        )
    raise failure


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


def load_item(path: str | Path, *, policy: Policy | None = None) -> Item:
    """Read one item from a JSON or YAML file.

    Raises:
        InputError: the file is missing, unreadable, or not a valid item.
    """
    path = Path(path)
    data, node = parse_document_node(read_text(path), source=str(path))
    return _validate(
        Item, data, document="item", source=str(path), policy=policy or default_policy(), node=node
    )


def load_principal(path: str | Path, *, policy: Policy | None = None) -> Principal:
    """Read one reader from a JSON or YAML file.

    Raises:
        InputError: the file is missing, unreadable, or not a valid reader.
    """
    path = Path(path)
    data, node = parse_document_node(read_text(path), source=str(path))
    return _validate(
        Principal,
        data,
        document="principal",
        source=str(path),
        policy=policy or default_policy(),
        node=node,
    )


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


def _lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """Number the lines of a stream; a line over `MAX_DOCUMENT_BYTES` comes as None."""
    number = 0
    while True:
        line = handle.readline(MAX_DOCUMENT_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_DOCUMENT_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of the long line
                line = handle.readline(MAX_DOCUMENT_BYTES)
            yield number, None
            continue
        yield number, line


def _json_line_item(
    number: int, line: bytes | None, *, name: str, policy: Policy | None
) -> Item | None:
    source = f"{name}:{number}"
    if line is None:
        raise InputError(f"line longer than {MAX_DOCUMENT_BYTES} bytes", source=source)
    text = decode(line, source=source)
    if not text.strip():
        return None
    data = parse_document(text, source=source, yaml_ok=False)
    return parse_item(data, source=source, policy=policy)


def _is_json_lines(first: bytes, suffix: str) -> bool:
    """Whether a file is JSON Lines, from its name or its first non-blank line.

    A line that opens and closes a JSON object is a whole document, so the
    file is JSON Lines (a pretty-printed JSON item's first line never closes
    it; a one-line item is JSON Lines of one). The line need not be valid: a
    bad first record is that record's error, not the file's.
    """
    if suffix == ".jsonl":
        return True
    if suffix in {".yaml", ".yml"}:
        return False
    text = first.strip()
    return text.startswith(b"{") and text.endswith(b"}")


def _stream_items(
    handle: IO[bytes],
    *,
    name: str,
    suffix: str,
    policy: Policy | None,
    on_error: OnError | None,
) -> Iterator[tuple[str, Item]]:
    lines = _lines(handle)
    first: tuple[int, bytes | None] | None = None
    for number, line in lines:
        if line is None or line.strip():
            first = (number, line)
            break
    if first is None:
        return
    number, line = first
    if line is not None and not _is_json_lines(line, suffix):
        # One JSON or YAML document, however it is laid out.
        rest = handle.read(MAX_DOCUMENT_BYTES + 1)
        data = b"\n" * (number - 1) + line + rest
        if len(data) > MAX_DOCUMENT_BYTES:
            raise InputError(f"larger than {MAX_DOCUMENT_BYTES} bytes", source=name)
        text = decode(data, source=name)
        document, node = parse_document_node(text, source=name)
        yield (
            name,
            _validate(
                Item,
                document,
                document="item",
                source=name,
                policy=policy or default_policy(),
                node=node,
            ),
        )
        return
    for number, line in itertools.chain([first], lines):
        try:
            item = _json_line_item(number, line, name=name, policy=policy)
        except InputError as exc:
            if on_error is None:
                raise
            on_error(exc)
            continue
        if item is not None:
            yield f"{name}:{number}", item


def iter_sourced_items(
    path: str | Path,
    *,
    policy: Policy | None = None,
    on_error: OnError | None = None,
) -> Iterator[tuple[str, Item]]:
    """As `iter_items`, with where each item came from (`FILE` or `FILE:LINE`).

    Raises:
        InputError: as `iter_items`.
    """
    if str(path) == STDIN:
        yield from _stream_items(
            sys.stdin.buffer, name="<stdin>", suffix="", policy=policy, on_error=on_error
        )
        return
    path = Path(path)
    if path.is_dir():
        for file in _directory_files(path):
            try:
                item = load_item(file, policy=policy)
            except InputError as exc:
                if on_error is None:
                    raise
                on_error(exc)
                continue
            yield str(file), item
        return
    with open_regular(path) as handle:
        yield from _stream_items(
            handle, name=str(path), suffix=path.suffix, policy=policy, on_error=on_error
        )


def iter_items(
    path: str | Path,
    *,
    policy: Policy | None = None,
    on_error: OnError | None = None,
) -> Iterator[Item]:
    """Stream items from a directory, a JSON Lines file or stream, or one document.

    A `.jsonl` file is JSON Lines, and so is any other (but `.yaml`/`.yml`)
    file or standard input (`-`) whose first non-blank line opens and closes
    a JSON object: it is read one line at a time, so memory stays constant
    however long it is. Blank lines are skipped. Anything else is one JSON or
    YAML item. An error names the file and line, never the content.

    Args:
        path: a directory, a JSON Lines file, a single JSON or YAML item, or
            `-` for standard input.
        policy: the profile whose vocabulary applies (the default when None).
        on_error: when given, a record (a line, or a file of a directory) that
            cannot be used is passed to it as an `InputError` and reading goes
            on; when None, the first such record raises.

    Yields:
        Items, in file (or sorted file name) order.

    Raises:
        InputError: the path cannot be read, or (without `on_error`) a record
            is not a valid item.
    """
    for _source, item in iter_sourced_items(path, policy=policy, on_error=on_error):
        yield item
