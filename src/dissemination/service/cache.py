"""Validated documents kept by their exact JSON text (items and readers a service sees again)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["DocumentCache"]


class DocumentCache:
    """Validated documents kept by their exact JSON text and the policy that validated them.

    Systems ask about the same item for many readers: validating it once, and
    handing `decide` the same (frozen) object, lets the decision's own cache
    work across requests. A document of other text, even the same fields in
    another order, is validated afresh: nothing is ever taken for another.
    """

    def __init__(self, size: int = 4096) -> None:
        """Keep at most `size` documents (least recently used go first)."""
        self.size = size
        self._kept: OrderedDict[tuple[str, bytes], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str, data: dict[str, Any], build: Callable[[], Any]) -> Any:
        """The document for `data` under the policy `digest`, built once."""
        try:
            key = (digest, orjson.dumps(data))
        except (TypeError, ValueError):  # not JSON orjson can write: validated, never kept
            return build()
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        value = build()  # raises for a bad document: nothing kept
        with self._lock:
            self._kept[key] = value
            if len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return value
