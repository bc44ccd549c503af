"""Reading document files and parsing JSON and YAML, safely: the one reader of every document.

Items, readers, case files, profiles and trail lines are read here. Only a
regular file is read (a FIFO or device is refused without blocking on it). For any text the
result is plain data (dicts, lists, strings, numbers, booleans, None) or an
`InputError` naming the source and, where known, the line; never another
exception, never a hang, and never a fragment of the text in the message.

What is refused, and why:

- a repeated key (a second `handling` silently replacing the first would
  change a label unseen); a key that is not a plain value (YAML `? [a, b]`);
- YAML aliases (`*name`): a few lines of aliases expand to a tree of billions
  of nodes, and no document of the contract needs them;
- nesting deeper than `MAX_DEPTH` levels (checked before anything is built, so
  3,000 levels cost nothing) and an integer of more than `MAX_DIGITS` digits;
- YAML tags other than the standard ones (PyYAML's own safe set).

YAML dates and times are not converted: they stay text, and the data contract's
models parse them, so an impossible date (`2027-02-30`) is an error naming
its field like any other value.

Errors raised here carry no chained exception (`__cause__` and `__context__`
are None): PyYAML's and json's own messages quote the text they failed on.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import yaml

from dissemination.errors import InputError

__all__ = [
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_DOCUMENT_BYTES",
    "DocumentLoader",
    "decode",
    "node_line",
    "open_regular",
    "parse_document",
    "parse_document_node",
    "parse_json",
    "parse_yaml",
    "parse_yaml_node",
    "read_text",
    "yaml_problem",
]

MAX_DEPTH = 100
"""The deepest nesting of lists and mappings accepted (a contract document needs fewer than 10)."""

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""The largest file (or JSON Lines line) read as one document."""

MAX_DIGITS = 1000
"""The most digits an integer may have (Python refuses to read more than 4,300)."""

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class DocumentLoader(yaml.SafeLoader):
    """PyYAML's safe loader, stricter: unique plain keys, dates kept as text, bounded integers.

    Nesting and aliases are checked as each node is composed, before it is
    built: a document 3,000 levels deep stops at level `MAX_DEPTH`.
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose one node, refusing aliases and nesting beyond `MAX_DEPTH`."""
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "a YAML alias: aliases are not accepted", mark
            )
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _without_timestamps(loader: type[Any]) -> None:
    loader.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _construct_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key that is not a plain value", key_node.start_mark
            )
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "duplicate key", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


def _construct_int(loader: Any, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    if sum(character.isdigit() for character in text) > MAX_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of more than {MAX_DIGITS} digits", node.start_mark
        )
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, "not a valid integer", node.start_mark
        ) from None


def _construct_timestamp(loader: Any, node: yaml.ScalarNode) -> Any:
    # An explicit `!!timestamp` stays text too: the models parse and check it.
    return loader.construct_scalar(node)


def _strict(loader: type[Any]) -> None:
    _without_timestamps(loader)
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    loader.add_constructor(_TIMESTAMP, _construct_timestamp)


_strict(DocumentLoader)

_C_LOADER: Any = getattr(yaml, "CSafeLoader", None)


class _FastLoader(_C_LOADER or yaml.SafeLoader):  # type: ignore[misc]  # PyYAML is untyped
    """`DocumentLoader`'s rules on libyaml's parser (five times faster), when PyYAML has it.

    libyaml composes in C, so nesting and aliases are checked on its event
    stream first (`_check_events`), before any node is built.
    """


_strict(_FastLoader)


def _check_events(text: str) -> None:
    """Refuse aliases and nesting beyond `MAX_DEPTH` from the event stream alone."""
    parser = _C_LOADER(text)
    try:
        depth = 0
        while parser.check_event():
            event = parser.get_event()
            mark: Any = event.start_mark
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise yaml.composer.ComposerError(
                        None, None, f"nested deeper than {MAX_DEPTH} levels", mark
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                raise yaml.composer.ComposerError(
                    None, None, "a YAML alias: aliases are not accepted", mark
                )
    finally:
        parser.dispose()


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|#x[0-9A-Fa-f]+|\\x[0-9A-Fa-f]+")
_PLAIN_WORDS = re.compile(r"[A-Za-z0-9 <>,;:()-]*")


def yaml_problem(exc: yaml.YAMLError) -> tuple[str, int | None]:
    """PyYAML's problem in words without the text it quotes, and its 1-based line.

    PyYAML quotes what it failed on (`found undefined alias 'MSCU1234566'`):
    the quoted parts are dropped, and a problem that still holds anything but
    plain lowercase words becomes `syntax error`.

    Args:
        exc: the error PyYAML raised.

    Returns:
        The problem and the line (None when PyYAML gives none).
    """
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    if isinstance(exc, yaml.reader.ReaderError):
        return "a character YAML does not accept", line
    problem = str(getattr(exc, "problem", None) or "syntax error")
    problem = " ".join(_QUOTED.sub("", problem).split()).rstrip(" ,;:")
    if not problem or not _PLAIN_WORDS.fullmatch(problem):
        problem = "syntax error"
    return problem, line


def parse_yaml_node(text: str, *, source: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text into plain data and its node tree (for line numbers).

    Args:
        text: the document.
        source: where it came from, for messages.

    Returns:
        The parsed data, and the root node (None for an empty document).

    Raises:
        InputError: not valid YAML, or refused (see the module docstring);
            `source` gains `:LINE` when the line is known.
    """
    failure: tuple[str, int | None]
    try:
        if _C_LOADER is not None:
            _check_events(text)
            loader: Any = _FastLoader(text)
        else:  # pragma: no cover (PyYAML without libyaml)
            loader = DocumentLoader(text)
        try:
            node = loader.get_single_node()
            data = None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        failure = yaml_problem(exc)
    except RecursionError:  # pragma: no cover (the depth check comes first)
        failure = (f"nested deeper than {MAX_DEPTH} levels", None)
    except (ValueError, TypeError, OverflowError, MemoryError):
        failure = ("a value YAML cannot represent", None)
    else:
        return data, node
    problem, line = failure
    raise InputError(
        f"not valid YAML ({problem})", source=f"{source}:{line}" if line is not None else source
    )


def parse_yaml(text: str, *, source: str) -> Any:
    """Parse YAML text into plain data.

    Args:
        text: the document.
        source: where it came from, for messages.

    Returns:
        The parsed data.

    Raises:
        InputError: not valid YAML, or refused (see the module docstring);
            `source` gains `:LINE` when the line is known.
    """
    return parse_yaml_node(text, source=source)[0]


def node_line(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest YAML node along a path of keys and positions.

    Args:
        node: the document's root node.
        loc: keys and positions, as pydantic reports an error's location.

    Returns:
        The line, or None without a node.
    """
    current = node
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    child = key_node if part == loc[-1] else value_node
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            child = current.value[part]
        if child is None:
            continue  # a union's tag in the path: stay on this node
        current = child
    return None if current is None else current.start_mark.line + 1


def _json_depth(text: str) -> int:
    """The deepest bracket nesting outside strings (a linear scan, before parsing)."""
    depth = deepest = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "]}":
            depth -= 1
    return deepest


class _DuplicateKeyError(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError
        result[key] = value
    return result


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _TooManyDigitsError
    return int(text)


class _TooManyDigitsError(ValueError):
    pass


def parse_json(text: str, *, source: str) -> Any:
    """Parse JSON text into plain data.

    Args:
        text: the document.
        source: where it came from, for messages.

    Returns:
        The parsed data.

    Raises:
        InputError: not valid JSON, a repeated key, too deep, or a too-long integer.
    """
    if text.count("[") + text.count("{") > MAX_DEPTH and _json_depth(text) > MAX_DEPTH:
        raise InputError(f"not valid JSON (nested deeper than {MAX_DEPTH} levels)", source=source)
    problem: str
    try:
        return json.loads(text, object_pairs_hook=_unique_object, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        # json's messages are fixed phrases with a position, never the text.
        problem = f"{exc.msg.lower()} at line {exc.lineno}, column {exc.colno}"
    except _DuplicateKeyError:
        problem = "duplicate key"
    except _TooManyDigitsError:
        problem = f"an integer of more than {MAX_DIGITS} digits"
    except (ValueError, RecursionError, OverflowError, MemoryError):
        problem = "a value JSON cannot represent here"
    raise InputError(f"not valid JSON ({problem})", source=source)


def open_regular(path: Path) -> IO[bytes]:
    """Open a regular file for reading; refuse anything else without blocking on it.

    Raises:
        InputError: missing, not a regular file (a FIFO, a device, a directory)
            or unreadable.
    """
    failure: InputError
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        failure = InputError("no such file", source=str(path))
    except IsADirectoryError:
        failure = InputError("is a directory, expected a file", source=str(path))
    except OSError as exc:
        failure = InputError(
            f"cannot read ({exc.strerror or type(exc).__name__})", source=str(path)
        )
    except ValueError:  # a NUL in the name
        failure = InputError("not a valid file name", source=repr(str(path)))
    else:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISREG(mode):
            return os.fdopen(descriptor, "rb")
        os.close(descriptor)
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        failure = InputError(f"is {kind}, expected a file", source=str(path))
    raise failure


def decode(data: bytes, *, source: str) -> str:
    """Decode UTF-8, or raise `InputError` (unchained: the error quotes the bytes)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    raise InputError("not UTF-8 text", source=source)


def read_text(path: Path) -> str:
    """Read a UTF-8 document file: a regular file only (a FIFO is refused, not waited on).

    Args:
        path: the file.

    Returns:
        Its text.

    Raises:
        InputError: missing, not a regular file, unreadable, too large or not UTF-8.
    """
    with open_regular(path) as handle:
        failure: InputError | None = None
        try:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            failure = InputError(
                f"cannot read ({exc.strerror or type(exc).__name__})", source=str(path)
            )
    if failure is not None:
        raise failure
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError(f"larger than {MAX_DOCUMENT_BYTES} bytes", source=str(path))
    return decode(data, source=str(path))


def parse_document_node(
    text: str, *, source: str, yaml_ok: bool = True
) -> tuple[Any, yaml.Node | None]:
    """As `parse_document`, with the YAML node tree (None for JSON) for line numbers.

    Raises:
        InputError: as `parse_document`.
    """
    text = text.removeprefix("\ufeff")
    if not yaml_ok or text.lstrip().startswith(("{", "[")):
        return parse_json(text, source=source), None
    return parse_yaml_node(text, source=source)


def parse_document(text: str, *, source: str, yaml_ok: bool = True) -> Any:
    """Parse JSON (or YAML when `yaml_ok`) text into plain data.

    JSON is tried first when the text starts with `{` or `[`; a leading
    byte-order mark is ignored.

    Args:
        text: the document.
        source: where it came from, for messages.
        yaml_ok: whether YAML is accepted.

    Returns:
        The parsed data.

    Raises:
        InputError: the text is not valid JSON or YAML, or is refused (see the
            module docstring). The message names the source and never quotes
            the text.
    """
    text = text.removeprefix("\ufeff")
    if not yaml_ok or text.lstrip().startswith(("{", "[")):
        return parse_json(text, source=source)
    return parse_yaml(text, source=source)
