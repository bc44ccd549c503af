"""Embedding dissemination in an intelligence system: decide, render, filter.

Run from the repository root: `python examples/embed.py`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dissemination

HUMBER = Path(__file__).resolve().parent / "humber"


def main() -> None:
    now = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
    policy = dissemination.load_policy()  # the embedded UK profile; pass a directory for your own
    officer = dissemination.load_principal(HUMBER / "readers" / "agency-frontline.yaml")
    item = dissemination.load_item(HUMBER / "items" / "hum-001-container.yaml")

    decision = dissemination.decide(officer, item, now=now, policy=policy)
    print(f"{officer.id} gets the {decision.view.label} view of {item.id}")
    for reason in decision.reasons:
        print(f"  because ({reason.rule}) {reason.text}")
    print(dissemination.render_text(item, decision))

    # Bulk: a stream of rendered views; items the reader may not know of vanish.
    items = dissemination.iter_items(HUMBER / "items")
    for document in dissemination.filter_items(officer, items, now=now, policy=policy):
        print(json.dumps({"id": document["item"]["id"], "view": document["view"]}))


if __name__ == "__main__":
    main()
