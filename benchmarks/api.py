"""The library's names the benchmarks use where they are being renamed.

`dissemination.filter` shadows a builtin and is being renamed (issue 11 item 8);
the benchmarks take whichever name this checkout has, so they run on either side
of that change.
"""

from __future__ import annotations

from typing import Any

import dissemination

filter_items: Any = getattr(dissemination, "filter_items", None) or dissemination.filter
