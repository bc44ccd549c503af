"""dissemination: decide what intelligence each reader may see, and render it redacted.

This is the public door, and it opens on the core only: the data contract's
models, loading them, `decide`, rendering, the bulk stream, `Policy`, `View`
and the error tree. The rest is reached through its own subpackage:

- `dissemination.registry`: the ownership registry (`Registry`);
- `dissemination.integrity`: signed labels and trust stores (`sign_label`, `LabelVerifier`);
- `dissemination.audit`: the disclosure trail (`open_trail`);
- `dissemination.tooling`: policy testing (`run_cases`, `lint_policy`, `diff_policies`, ...).

Everything not exported here or there is internal. README.md, "The public
API", lists these names; tests/test_exported_members.py keeps the two equal.

    >>> import datetime as dt
    >>> from dissemination import decide, load_item, load_principal, render
    >>> decision = decide(reader, item, now=dt.datetime.now(dt.UTC))  # doctest: +SKIP
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers; at run time each name is imported on first use
    from dissemination.bulk import filter_items
    from dissemination.decision import Decision, LabelCheck, Reason, Withheld, decide
    from dissemination.errors import (
        CaseError,
        DisseminationError,
        DocumentError,
        IdentifierError,
        InputError,
        InvalidLabelSignature,
        KeyFileError,
        PolicyError,
        RefusedError,
        RegistryError,
        RegistryKeyError,
        TrailError,
        TrustStoreRequiredError,
        UnavailableError,
        UnknownTermError,
    )
    from dissemination.loading import (
        iter_items,
        load_item,
        load_principal,
        load_principals,
        parse_item,
        parse_principal,
    )
    from dissemination.models import Item, LabelSignature, Principal
    from dissemination.policy import DEFAULT_POLICY_DIR, Policy, default_policy, load_policy
    from dissemination.redaction import banner, render, render_item, render_text
    from dissemination.vocabulary import View, Vocabulary

_LAZY = {
    "CaseError": "dissemination.errors",
    "DEFAULT_POLICY_DIR": "dissemination.policy",
    "Decision": "dissemination.decision",
    "DisseminationError": "dissemination.errors",
    "DocumentError": "dissemination.errors",
    "IdentifierError": "dissemination.errors",
    "InputError": "dissemination.errors",
    "InvalidLabelSignature": "dissemination.errors",
    "Item": "dissemination.models",
    "KeyFileError": "dissemination.errors",
    "LabelCheck": "dissemination.decision",
    "LabelSignature": "dissemination.models",
    "Policy": "dissemination.policy",
    "PolicyError": "dissemination.errors",
    "Principal": "dissemination.models",
    "Reason": "dissemination.decision",
    "RefusedError": "dissemination.errors",
    "RegistryError": "dissemination.errors",
    "RegistryKeyError": "dissemination.errors",
    "TrailError": "dissemination.errors",
    "TrustStoreRequiredError": "dissemination.errors",
    "UnavailableError": "dissemination.errors",
    "UnknownTermError": "dissemination.errors",
    "View": "dissemination.vocabulary",
    "Vocabulary": "dissemination.vocabulary",
    "Withheld": "dissemination.decision",
    "banner": "dissemination.redaction",
    "decide": "dissemination.decision",
    "default_policy": "dissemination.policy",
    "filter_items": "dissemination.bulk",
    "iter_items": "dissemination.loading",
    "load_item": "dissemination.loading",
    "load_policy": "dissemination.policy",
    "load_principal": "dissemination.loading",
    "load_principals": "dissemination.loading",
    "parse_item": "dissemination.loading",
    "parse_principal": "dissemination.loading",
    "render": "dissemination.redaction",
    "render_item": "dissemination.redaction",
    "render_text": "dissemination.redaction",
}
"""Each exported name and its module: imported on first use (PEP 562), so that
`dissemination --help` (which imports this package first) loads none of them."""


def __getattr__(name: str) -> Any:
    """Import an exported name on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module `dissemination` has no attribute `{name}`")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The exported names, with the module's own."""
    return sorted({*globals(), *__all__})


__all__ = [
    "DEFAULT_POLICY_DIR",
    "CaseError",
    "Decision",
    "DisseminationError",
    "DocumentError",
    "IdentifierError",
    "InputError",
    "InvalidLabelSignature",
    "Item",
    "KeyFileError",
    "LabelCheck",
    "LabelSignature",
    "Policy",
    "PolicyError",
    "Principal",
    "Reason",
    "RefusedError",
    "RegistryError",
    "RegistryKeyError",
    "TrailError",
    "TrustStoreRequiredError",
    "UnavailableError",
    "UnknownTermError",
    "View",
    "Vocabulary",
    "Withheld",
    "banner",
    "decide",
    "default_policy",
    "filter_items",
    "iter_items",
    "load_item",
    "load_policy",
    "load_principal",
    "load_principals",
    "parse_item",
    "parse_principal",
    "render",
    "render_item",
    "render_text",
]

__version__ = "0.1.0"
