"""The errors `dissemination` raises, one tree rooted at `DisseminationError`.

A denial is never an error: `decide` returns a `Decision` whose view may be
`none`. Errors are for input the library cannot use (a malformed item, an
unreadable policy directory) and for infrastructure that fails.

    DisseminationError
    ├── InputError              bad input: a file, document or value we cannot use
    │   ├── DocumentError       a document that fails the data contract (names the field)
    │   ├── IdentifierError     a subject identifier that cannot be right for its type
    │   ├── UnknownTermError    a vocabulary term the profile does not know
    │   ├── CaseError           a policy test case file that cannot be used (file and line)
    │   └── KeyFileError        a key file or trust store that cannot be used
    ├── RegistryError           the ownership registry's database cannot be used
    │   └── RegistryKeyError    the registry key is missing, malformed or not the registry's
    ├── PolicyError             a policy directory that cannot be loaded or is malformed
    ├── InvalidLabelSignature   a label signature that does not verify, for any reason
    ├── TrailError              the disclosure trail cannot be read or written
    ├── TrustStoreRequiredError a profile requires signed labels and no trust store was given
    ├── RefusedError            an operation the policy refuses this principal (exit 1)
    └── UnavailableError        the environment failed: database unreachable, disk full (exit 3)

The CLI maps the tree to exit codes: `RefusedError` 1 (a check that failed),
`UnavailableError` 3 (the environment failed), every other error 2 (bad input).

Every message is one line, lowercase, without a final period, with the
offending name in backticks. A message never quotes the content of an item:
it names the field and the kind of problem, not the value. Errors from
third-party libraries (pydantic, YAML, casbin, cryptography, SQLAlchemy) are
translated where they enter (`raise ... from exc`).

Like *cryptography*'s `InvalidToken`, every way a label can fail verification
(unsigned, unknown key, another organisation's key, any change to the label or
the content) is one `InvalidLabelSignature`; its `reason` says which, for the
people who run the system.
"""

from __future__ import annotations


def safe_term(value: object) -> str:
    """A vocabulary term as it may appear in an error message.

    A short single-line term is quoted in backticks; anything else is described
    by its length only, so a message never carries a long or multi-line value
    (which could be content pasted into the wrong field).

    Args:
        value: the offending value.

    Returns:
        `` `TERM` `` or `a value of N characters`.
    """
    text = str(value)
    if len(text) <= 40 and text.isprintable() and "`" not in text:
        return f"`{text}`"
    return f"a value of {len(text)} characters"


__all__ = [
    "CaseError",
    "DisseminationError",
    "DocumentError",
    "IdentifierError",
    "InputError",
    "InvalidLabelSignature",
    "KeyFileError",
    "PolicyError",
    "RefusedError",
    "RegistryError",
    "RegistryKeyError",
    "TrailError",
    "TrustStoreRequiredError",
    "UnavailableError",
    "UnknownTermError",
    "safe_term",
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
        term: the unknown term; kept for callers, never in the message.
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
        # The term is not one of the profile's, so it may be content typed in
        # the wrong field: named by kind, never quoted (it stays in `term`).
        super().__init__(f"unknown {vocabulary}: not a term of the profile", source=source)


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


class KeyFileError(InputError):
    """A key file or trust store that cannot be used.

    Unreadable, not PEM, a key of the wrong type (not Ed25519), a private key
    where a public one belongs, or a trust store with no keys. `source` names
    the file or directory.
    """


class InvalidLabelSignature(DisseminationError):  # noqa: N818 (named as cryptography's InvalidSignature)
    """An item's label signature does not verify, whatever the reason.

    Attributes:
        item_id: the item whose label failed.
        reason: which failure, one of `REASONS`; for operators, never for readers.
    """

    REASONS = ("unsigned", "wrong_organisation", "unknown_key", "mismatch")
    """`unsigned`: no signature; `wrong_organisation`: signed for another
    organisation than the originator; `unknown_key`: the trust store holds no
    such key for the originator; `mismatch`: the signature does not match the
    label (a label field, the content or the signature was changed)."""

    def __init__(self, message: str, *, item_id: str, reason: str) -> None:
        """Create the error.

        Args:
            message: one lowercase line naming the problem.
            item_id: the item whose label failed.
            reason: one of `REASONS`.
        """
        self.item_id = item_id
        self.reason = reason
        super().__init__(message)


class TrailError(DisseminationError):
    """The disclosure trail cannot be read or written (I/O, database, a torn record).

    Attributes:
        target: the trail's file or database (with any password hidden).
    """

    def __init__(self, message: str, *, target: str) -> None:
        """Create the error.

        Args:
            message: one lowercase line naming the problem.
            target: the trail's file or database.
        """
        self.target = target
        self.detail = message
        super().__init__(f"{target}: {message}")


class CaseError(InputError):
    """A policy test case file that cannot be used: not YAML, an unknown key, a bad reference.

    Attributes:
        path: the case file.
        line: the 1-based line of the offending case or key, when known.
    """

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        """Create the error.

        Args:
            message: one lowercase line naming the problem.
            path: the case file.
            line: the 1-based line number, if known.
        """
        self.path = path
        self.line = line
        super().__init__(message, source=f"{path}:{line}" if line is not None else path)


class IdentifierError(InputError):
    """A subject identifier that cannot be right for its type (a wrong check digit).

    The message names the subject type and the problem, never the value: the
    value may be a subject the reader of the message must not see.

    Attributes:
        subject_type: the subject type (`container`, `phone`, ...).
        problem: what is wrong, in words.
        field: where the subject is in its document (`subjects.1`), if known.
    """

    def __init__(
        self,
        *,
        subject_type: str,
        problem: str,
        field: str | None = None,
        source: str | None = None,
    ) -> None:
        """Create the error.

        Args:
            subject_type: the subject type.
            problem: what is wrong, without quoting the value.
            field: the subject's place in its document, if known.
            source: the file or item the subject came from, if known.
        """
        self.subject_type = subject_type
        self.problem = problem
        self.field = field
        where = f"`{field}` " if field else ""
        super().__init__(
            f"{where}invalid {safe_term(subject_type)} identifier: {problem}", source=source
        )


class RegistryError(DisseminationError):
    """The ownership registry cannot be used: unreachable, locked, or of another version.

    Attributes:
        target: the registry's database URL, with any password hidden.
    """

    def __init__(self, message: str, *, target: str) -> None:
        """Create the error.

        Args:
            message: one lowercase line naming the problem.
            target: the database URL (password hidden).
        """
        self.target = target
        self.detail = message
        super().__init__(f"registry {target}: {message}")


class RegistryKeyError(RegistryError):
    """The registry key is missing, malformed, or not the key the registry was built with.

    A wrong key is refused before anything is read or written: with it every
    lookup would miss and every registration would make a second owner.
    """


class RefusedError(DisseminationError):
    """An operation the policy refuses this principal: a hand-off, a renewal, a history.

    A refusal is an answer, not bad input: the CLI exits 1 (a check that
    failed). The message names the operation and the rule, never content.
    """


class UnavailableError(DisseminationError):
    """The environment failed: a database that cannot be reached, a disk that is full.

    Retrying later may succeed; the CLI exits 3. Input was not at fault.
    """


class TrustStoreRequiredError(DisseminationError):
    """A profile requires signed labels and no trust store (label check) was given.

    Without one every item would fail the requirement and be shown to nobody,
    silently; the set-up is refused instead (the CLI exits 2).

    Attributes:
        profile: the profile's name.
    """

    def __init__(self, *, profile: str) -> None:
        """Create the error.

        Args:
            profile: the name of the profile that requires signed labels.
        """
        self.profile = profile
        super().__init__(
            f"profile {safe_term(profile)} requires signed labels: give a trust store "
            "(`--trust DIR` or `DISSEMINATION_TRUST`; `label_check=` in Python)"
        )
