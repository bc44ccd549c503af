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
