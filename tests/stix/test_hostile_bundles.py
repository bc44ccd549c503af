"""A bundle edited in transit, or written by hand, never crashes import or filter-stix.

Either the bundle is refused with a one-line `DisseminationError`, or it
imports; nothing else escapes (DESIGN §5: bad input gets a clear one-line error).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dissemination import (
    DisseminationError,
    decide,
    default_policy,
    load_item,
    load_principal,
)
from dissemination.stix.export import export_bundle
from dissemination.stix.filtering import filter_bundle
from dissemination.stix.ingest import import_bundle
from tests.stix.support import DATA
from tests.strategies import NOW

DEMO = Path(__file__).resolve().parents[2] / "src" / "dissemination" / "demo" / "humber"
POLICY = default_policy()
ITEM = load_item(DEMO / "items" / "hum-004-person.yaml")
ANALYST = load_principal(DEMO / "readers" / "dv-analyst.yaml")
OURS = export_bundle(ITEM, decide(ANALYST, ITEM, now=NOW), policy=POLICY)
THEIRS = json.loads((DATA / "using-granular-markings.json").read_text())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.extend(_paths(inner, (*path, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.extend(_paths(inner, (*path, index)))
    return found


@st.composite
def edited_bundles(draw: st.DrawFn) -> dict[str, Any]:
    bundle: dict[str, Any] = copy.deepcopy(draw(st.sampled_from([OURS, THEIRS])))
    objects = bundle["objects"]
    obj = draw(st.sampled_from(objects))
    path = draw(st.sampled_from(_paths(obj)))
    node = obj
    for part in path[:-1]:
        node = node[part]
    if draw(st.booleans()) and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = draw(json_values)
    return bundle


@settings(max_examples=150, deadline=None)
@given(bundle=edited_bundles())
def test_an_edited_bundle_imports_or_is_refused_in_one_line(bundle: dict[str, Any]) -> None:
    for run in (
        lambda: import_bundle(bundle, policy=POLICY, now=NOW),
        lambda: filter_bundle(bundle, ANALYST, policy=POLICY, now=NOW),
    ):
        message = ""
        try:
            run()
        except DisseminationError as exc:
            message = str(exc)
        assert "\n" not in message
