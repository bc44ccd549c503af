"""Shared fixtures: the default policy, the example data, a fixed clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dissemination import Policy, default_policy

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HUMBER = EXAMPLES / "humber"
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def policy() -> Policy:
    return default_policy()


@pytest.fixture
def now() -> dt.datetime:
    return NOW
