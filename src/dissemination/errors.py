"""The errors `dissemination` raises, one tree rooted at `DisseminationError`.

A denial is never an error: `decide` returns a `Decision` whose view may be
`none`. Errors are for input the library cannot use (a malformed item, an
unreadable policy directory) and for infrastructure that fails.

    DisseminationError
    ├── InputError              bad input: a file, document or value we cannot use
    │   ├── DocumentError       a document that fails the data contract (names the field)
    │   └── UnknownTermError    a vocabulary term the profile does not know
    └── PolicyError             a policy directory that cannot be loaded or is malformed

Every message is one line, lowercase, without a final period, with the
offending name in backticks. A message never quotes the content of an item:
it names the field and the kind of problem, not the value. Errors from
third-party libraries (pydantic, YAML, casbin) are translated where they enter
(`raise ... from exc`).
"""

from __future__ import annotations

__all__ = [
    "DisseminationError",
    "DocumentError",
    "InputError",
    "PolicyError",
    "UnknownTermError",
]


class DisseminationError(Exception):
    """The root of every error this library raises on purpose."""


class InputError(DisseminationError):
    """Input that cannot be used: unreadable, malformed or outside the contract.

    Attributes:
        source: where the input came from (a file path or `<stdin>`), if known.
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        """Create the error.

        Args:
            message: one lowercase line naming the problem.
            source: the file or stream the input came from, if known.
        """
        self.source = source
        self.detail = message
        super().__init__(f"{source}: {message}" if source else message)


class DocumentError(InputError):
    """A document (item, reader, case) that fails the data contract.

    Attributes:
        field: the dotted path of the offending field (`portions.2.marking`).
        problem: what is wrong with it, in words; never the field's value.
        document: the kind of document (`item`, `principal`).
    """

    def __init__(
        self,
        *,
        document: str,
        field: str,
        problem: str,
        source: str | None = None,
    ) -> None:
        """Create the error.

        Args:
            document: the kind of document (`item`, `principal`).
            field: dotted path of the offending field; empty for the whole document.
            problem: what is wrong, without quoting the value.
            source: the file the document came from, if known.
        """
        self.document = document
        self.field = field
        self.problem = problem
        where = f"{document} `{field}`" if field else document
        super().__init__(f"{where}: {problem}", source=source)


class UnknownTermError(InputError):
    """A vocabulary term (vetting level, classification) the profile does not know.

    Attributes:
        vocabulary: which vocabulary (`vetting level`, `classification`).
        term: the unknown term. Vocabulary terms are label metadata, not content.
    """

    def __init__(self, *, vocabulary: str, term: str, source: str | None = None) -> None:
        """Create the error.

        Args:
            vocabulary: which vocabulary the term should belong to.
            term: the term that is not in it.
            source: the file the term came from, if known.
        """
        self.vocabulary = vocabulary
        self.term = term
        super().__init__(f"unknown {vocabulary} `{term}`", source=source)


class PolicyError(DisseminationError):
    """A policy directory that cannot be loaded, or whose files are malformed.

    Attributes:
        path: the file (or directory) at fault.
        line: the line number in that file, when one is known.
    """

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        """Create the error.

        Args:
            message: one lowercase line naming the problem.
            path: the policy file or directory at fault.
            line: the 1-based line number, if the problem is on one line.
        """
        self.path = path
        self.line = line
        self.detail = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
