"""`__all__` and the package's public names must not drift apart (as httpx does)."""

from __future__ import annotations

import dissemination


def test_all_is_unique_and_complete() -> None:
    # The order itself is ruff's (RUF022: constants, then classes, then functions).
    exported = dissemination.__all__
    assert len(set(exported)) == len(exported)
    public = {
        name
        for name, value in vars(dissemination).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("dissemination")
    }
    assert public - {"cli"} <= set(exported)
    for name in exported:
        assert hasattr(dissemination, name), name
