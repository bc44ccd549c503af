"""The library's names the benchmarks use where they are being renamed.

`dissemination.filter` shadowed a builtin and is now `filter_items` (issue 11
item 8); the benchmarks import it from here.
"""

from __future__ import annotations

from typing import Any

import dissemination

filter_items: Any = dissemination.filter_items
