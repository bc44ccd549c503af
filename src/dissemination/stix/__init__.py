"""STIX 2.1 interchange: export per reader, import with fail-closed mapping, filter a bundle.

python-stix2 is an optional extra (`pip install 'dissemination[stix]'`): the
modules here import it only inside the functions that need it, and this
package imports its modules on first use (PEP 562), so importing
`dissemination`, or the profile loader that reads `stix.profile`, never pays
for it. See docs/stix.md for the mapping tables.

- `export_bundle(item, decision, policy=...)`: a bundle of what one reader may see;
- `import_bundle(bundle, policy=..., now=...)`: items, and a summary of the mapping;
- `filter_bundle(bundle, reader, policy=..., now=...)`: the part of any bundle a reader may see;
- `profile`: the `stix:` section of a profile (TLP and ACS tables);
- `constants`: fixed ids (TLP 1.0 and 2.0, ACS 3.0, our extensions).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dissemination.stix.export import export_bundle
    from dissemination.stix.filtering import filter_bundle
    from dissemination.stix.ingest import ImportResult, import_bundle

__all__ = ["ImportResult", "export_bundle", "filter_bundle", "import_bundle"]

_LAZY = {
    "ImportResult": "dissemination.stix.ingest",
    "export_bundle": "dissemination.stix.export",
    "filter_bundle": "dissemination.stix.filtering",
    "import_bundle": "dissemination.stix.ingest",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module `dissemination.stix` has no attribute `{name}`")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
