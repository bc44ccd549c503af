"""The ownership registry: one owner per subject, deconfliction lookups that leak nothing.

DESIGN §1, problem 1: who already works this container, vehicle or person?
`Registry.register` links each new item to its subjects on ingest and makes
the item's owner the owner of every subject nobody owns; `Registry.lookup`
answers "who owns intelligence on X?" through the policy, telling each reader
only what their view of each linked item allows.

The modules, one concept each:

- `keys`: the blind index (HMAC-SHA256 digests, key ring, re-keying);
- `labels`: what is kept of an item (its label, sealed under the registry key; no content);
- `answers`: the values returned, and the policy filter of a lookup (pure);
- `database`: tables, engines, transactions, error translation (SQLAlchemy);
- `store`: the rows every operation reads and writes (key chain, claims, links, events);
- `ingest`: registering an item (label, links, claims);
- `lookup`: reading what a lookup decides on;
- `lifecycle`: transfer, renew, release, lapse, and the history;
- `rekey`: wrapping every digest under new keys;
- `schema`: `upgrade` creates or migrates the tables (Alembic, `migrations/`); opening checks;
- `core`: the `Registry` itself, the one door to the above.
"""

from dissemination.registry.answers import (
    Claim,
    Event,
    History,
    LinkedItem,
    LookupAnswer,
    Registration,
)
from dissemination.registry.core import DEFAULT_CLAIM_PERIOD, Registry
from dissemination.registry.database import default_url
from dissemination.registry.keys import KeyRing, RegistryKey, generate_key, load_keys, parse_keys
from dissemination.registry.schema import Upgraded, upgrade

__all__ = [
    "DEFAULT_CLAIM_PERIOD",
    "Claim",
    "Event",
    "History",
    "KeyRing",
    "LinkedItem",
    "LookupAnswer",
    "Registration",
    "Registry",
    "RegistryKey",
    "Upgraded",
    "default_url",
    "generate_key",
    "load_keys",
    "parse_keys",
    "upgrade",
]
