"""dissemination: decide what intelligence each reader may see, and render it redacted.

The public API is what this module exports; everything else is internal.

    >>> import datetime as dt
    >>> from dissemination import decide, load_item, load_principal, render
    >>> decision = decide(reader, item, now=dt.datetime.now(dt.UTC))  # doctest: +SKIP
"""

import importlib
from typing import TYPE_CHECKING, Any

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
    RegistryError,
    RegistryKeyError,
    TrailError,
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

if TYPE_CHECKING:  # imported on first use (below), so `import dissemination` stays quick
    from dissemination.audit import DisclosureTrail, open_trail
    from dissemination.identifiers import NormalisedIdentifier, normalise, normalise_value
    from dissemination.integrity import (
        LabelVerifier,
        TrustStore,
        generate_key,
        load_private_key,
        load_trust_store,
        sign_label,
        verify_label,
    )
    from dissemination.registry import LookupAnswer, Registration, Registry
    from dissemination.tooling.cases import load_case_file
    from dissemination.tooling.coverage import measure_coverage
    from dissemination.tooling.diff import diff_policies
    from dissemination.tooling.lint import lint_policy
    from dissemination.tooling.runner import run_cases
    from dissemination.tooling.whocansee import what_can_see, who_can_see

_LAZY = {
    "DisclosureTrail": "dissemination.audit",
    "open_trail": "dissemination.audit",
    "NormalisedIdentifier": "dissemination.identifiers",
    "normalise": "dissemination.identifiers",
    "normalise_value": "dissemination.identifiers",
    "LabelVerifier": "dissemination.integrity",
    "TrustStore": "dissemination.integrity",
    "generate_key": "dissemination.integrity",
    "load_private_key": "dissemination.integrity",
    "load_trust_store": "dissemination.integrity",
    "sign_label": "dissemination.integrity",
    "verify_label": "dissemination.integrity",
    "LookupAnswer": "dissemination.registry",
    "Registration": "dissemination.registry",
    "Registry": "dissemination.registry",
    "load_case_file": "dissemination.tooling.cases",
    "measure_coverage": "dissemination.tooling.coverage",
    "diff_policies": "dissemination.tooling.diff",
    "lint_policy": "dissemination.tooling.lint",
    "run_cases": "dissemination.tooling.runner",
    "what_can_see": "dissemination.tooling.whocansee",
    "who_can_see": "dissemination.tooling.whocansee",
}
"""Public names whose modules pull in heavy dependencies (SQLAlchemy, cryptography,
phonenumbers): imported on first use, so deciding and rendering start fast."""


def __getattr__(name: str) -> Any:
    """Import a lazily exported name on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module `dissemination` has no attribute `{name}`")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_POLICY_DIR",
    "CaseError",
    "Decision",
    "DisclosureTrail",
    "DisseminationError",
    "DocumentError",
    "IdentifierError",
    "InputError",
    "InvalidLabelSignature",
    "Item",
    "KeyFileError",
    "LabelCheck",
    "LabelSignature",
    "LabelVerifier",
    "LookupAnswer",
    "NormalisedIdentifier",
    "Policy",
    "PolicyError",
    "Principal",
    "Reason",
    "Registration",
    "Registry",
    "RegistryError",
    "RegistryKeyError",
    "TrailError",
    "TrustStore",
    "UnknownTermError",
    "View",
    "Vocabulary",
    "Withheld",
    "banner",
    "decide",
    "default_policy",
    "diff_policies",
    "filter_items",
    "generate_key",
    "iter_items",
    "lint_policy",
    "load_case_file",
    "load_item",
    "load_policy",
    "load_principal",
    "load_principals",
    "load_private_key",
    "load_trust_store",
    "measure_coverage",
    "normalise",
    "normalise_value",
    "open_trail",
    "parse_item",
    "parse_principal",
    "render",
    "render_item",
    "render_text",
    "run_cases",
    "sign_label",
    "verify_label",
    "what_can_see",
    "who_can_see",
]

__version__ = "0.1.0"
