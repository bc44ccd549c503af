"""who-can-see, what-can-see and explain, through the library and the CLI."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dissemination import Item, default_policy, load_item, load_principal, load_principals
from dissemination.cli import main
from dissemination.tooling import who_can_see
from dissemination.tooling.whocansee import explain
from tests.conftest import HUMBER, NOW

ITEM = HUMBER / "items" / "hum-001-container.yaml"
AGENCY = HUMBER / "readers" / "agency-frontline.yaml"
NOW_TEXT = "2026-11-27T10:00:00Z"


def test_who_can_see_orders_best_view_first() -> None:
    pairs = who_can_see(
        load_item(ITEM), load_principals(HUMBER / "readers"), now=NOW, policy=default_policy()
    )
    views = [decision.view for _reader, decision in pairs]
    assert views == sorted(views, reverse=True)
    assert {reader.id for reader, _decision in pairs} == {
        reader.id for reader in load_principals(HUMBER / "readers")
    }


def test_cli_who_can_see_and_what_can_see_tables() -> None:
    runner = CliRunner()
    who = runner.invoke(
        main, ["who-can-see", str(ITEM), "--readers", str(HUMBER / "readers"), "--now", NOW_TEXT]
    )
    assert who.exit_code == 0, who.output
    lines = who.output.splitlines()
    assert lines[0].split() == ["reader", "view", "why"]
    assert "agency-0042      gist     base.gist" in who.output
    what = runner.invoke(
        main, ["what-can-see", str(AGENCY), "--items", str(HUMBER / "items"), "--now", NOW_TEXT]
    )
    assert what.exit_code == 0, what.output
    assert "HUM-2026-000124  pointer    cap.no_agency_staff.agency" in what.output
    assert len(what.output.splitlines()) == 1 + 7


def test_explain_names_facts_rows_cap_and_withheld_parts_without_content() -> None:
    data = explain(load_principal(AGENCY), load_item(ITEM), now=NOW, policy=default_policy())
    assert data["view"] == "gist"
    assert "employment.agency" in data["facts"]
    assert data["base"] == "gist"
    assert data["cap"] == {"view": "sanitised", "rules": ["cap.agency"]}
    assert data["fixed_by"] == ["base.gist"]
    assert {(w["kind"], w["id"], w["rule"]) for w in data["withheld"]} == {
        ("portion", "p2", "marking.min_vetting"),
        ("portion", "p3", "marking.min_vetting"),
        ("subject", "s2", "marking.min_vetting"),
    }
    assert "AB12 CDE" not in json.dumps(data)
    assert "covert" not in json.dumps(data)


def test_cli_explain_text_and_json() -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["explain", str(ITEM), "--as", str(AGENCY), "--now", NOW_TEXT])
    assert text.exit_code == 0, text.output
    assert "agency-0042 gets `gist` of HUM-2026-000123" in text.output
    assert "cap: sanitised by cap.agency" in text.output
    assert "policy.csv:" in text.output
    assert "withheld portion p3: marking.min_vetting" in text.output
    as_json = runner.invoke(
        main, ["explain", str(ITEM), "--as", str(AGENCY), "--now", NOW_TEXT, "--format", "json"]
    )
    assert json.loads(as_json.output)["view"] == "gist"


def test_cli_explain_missing_reader_is_exit_2() -> None:
    result = CliRunner().invoke(main, ["explain", str(ITEM), "--as", "no-such-reader.yaml"])
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert result.output.count("\n") == 1


def _content_of(items: list[Item]) -> set[str]:
    """Every portion text and subject value of the items."""
    content = {portion.text for item in items for portion in item.portions}
    for subject in (subject for item in items for subject in item.subjects):
        content.add(subject.name if subject.type == "person" else subject.value)
    return content


def test_cli_tables_and_explain_print_ids_never_content() -> None:
    # DESIGN §5: the admin tools name readers, items, portions and subjects by
    # id; nothing of what they hold appears in what they print.
    items = [load_item(path) for path in sorted((HUMBER / "items").glob("*.yaml"))]
    content = _content_of(items)
    assert "AB12 CDE" in content
    runner = CliRunner()
    outputs = [
        runner.invoke(
            main,
            ["who-can-see", str(ITEM), "--readers", str(HUMBER / "readers"), "--now", NOW_TEXT],
        ),
        runner.invoke(
            main, ["what-can-see", str(AGENCY), "--items", str(HUMBER / "items"), "--now", NOW_TEXT]
        ),
    ]
    for reader in sorted((HUMBER / "readers").glob("*.yaml")):
        for fmt in ("text", "json"):
            outputs.append(
                runner.invoke(
                    main,
                    ["explain", str(ITEM), "--as", str(reader), "--now", NOW_TEXT, "--format", fmt],
                )
            )
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert not [text for text in content if text in result.output]
