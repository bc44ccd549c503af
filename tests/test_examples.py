"""Every file in examples/ runs in the test suite."""

from __future__ import annotations

import subprocess
import sys

from dissemination import iter_items, load_principals
from tests.conftest import EXAMPLES, HUMBER


def test_embed_example_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "embed.py")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "agency-0042 gets the gist view of HUM-2026-000123" in result.stdout


def test_humber_scenario_meets_the_brief() -> None:
    items = list(iter_items(HUMBER / "items"))
    readers = load_principals(HUMBER / "readers")
    assert len(items) >= 6
    assert len(readers) >= 5
    subject_types = {subject.type for item in items for subject in item.subjects}
    assert {"container", "vehicle", "vessel", "person"} <= subject_types
    categories = {portion.category for item in items for portion in item.portions}
    assert {"tearline", "narrative", "assessment", "source"} <= categories
    kinds = {rule.kind for item in items for rule in item.handling}
    assert len(kinds) >= 6
