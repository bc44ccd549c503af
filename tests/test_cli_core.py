"""The core CLI: view, filter, schema, demo, and bad input (one line, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from dissemination.cli import main
from tests.conftest import HUMBER

ITEMS = HUMBER / "items"
READERS = HUMBER / "readers"
NOW = "2026-11-27T10:00:00Z"


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def test_view_json_has_the_promised_keys() -> None:
    result = run(
        "view",
        ITEMS / "hum-001-container.yaml",
        "--as",
        READERS / "bf-intel-officer.yaml",
        "--now",
        NOW,
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert list(document) == ["view", "item", "reasons", "conditions", "obligations", "policy"]
    assert document["view"] == "full"
    assert [p["id"] for p in document["item"]["portions"]] == ["p1", "p2"]  # p3 needs DV
    assert document["policy"].startswith("sha256:")


def test_view_text_for_an_agency_officer_is_the_gist() -> None:
    result = run(
        "view",
        ITEMS / "hum-001-container.yaml",
        "--as",
        READERS / "agency-frontline.yaml",
        "--now",
        NOW,
        "--format",
        "text",
    )
    assert result.exit_code == 0
    assert "Stop and examine container MSCU1234566" in result.output
    assert "AB12 CDE" not in result.output  # the vehicle needs SC
    assert "covert human source" not in result.output
    assert "Suspected concealment" not in result.output  # no title in a gist
    assert result.output.splitlines()[0] == "OFFICIAL-SENSITIVE"


def test_view_explain_names_withheld_parts_by_id_only() -> None:
    result = run(
        "view",
        ITEMS / "hum-001-container.yaml",
        "--as",
        READERS / "agency-frontline.yaml",
        "--now",
        NOW,
        "--explain",
    )
    explain = json.loads(result.output)["explain"]
    assert "employment.agency" in explain["facts"]
    withheld = {(w["kind"], w["id"], w["rule"]) for w in explain["withheld"]}
    assert ("portion", "p3", "marking.min_vetting") in withheld
    assert explain["cap"] == {"view": "sanitised", "rules": ["cap.agency"]}
    assert "covert human source" not in result.output


def test_view_at_none_is_exit_zero_and_reveals_nothing() -> None:
    result = run(
        "view",
        ITEMS / "hum-006-recipients.yaml",
        "--as",
        READERS / "agency-frontline.yaml",
        "--now",
        NOW,
    )
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["view"] == "none"
    assert "item" not in document
    assert document["reasons"] == []


def test_now_changes_an_embargo() -> None:
    args: list[str | Path] = [
        "view",
        ITEMS / "hum-005-embargo.yaml",
        "--as",
        READERS / "nca-partner.yaml",
    ]
    before = json.loads(run(*args, "--now", "2026-11-30T00:00:00Z").output)
    after = json.loads(run(*args, "--now", "2026-12-02T00:00:00Z").output)
    assert before["view"] == "pointer"
    assert after["view"] == "full"


def test_filter_directory_streams_one_line_per_visible_item() -> None:
    result = run("filter", ITEMS, "--as", READERS / "foreign-liaison.yaml", "--now", NOW)
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    ids = [line["item"]["id"] for line in lines]
    # The liaison officer is not a recipient (HUM-...128) nor British (HUM-...129): those vanish.
    assert "HUM-2026-000128" not in ids
    assert "HUM-2026-000129" not in ids
    assert all(line["view"] != "none" for line in lines)
    assert len(lines) == 5


def test_filter_jsonl_and_out_file(tmp_path: Path) -> None:
    source = tmp_path / "items.jsonl"
    with source.open("w") as handle:
        for path in sorted(ITEMS.glob("*.yaml")):
            handle.write(json.dumps(yaml.safe_load(path.read_text()), default=str) + "\n")
    out = tmp_path / "out.jsonl"
    result = run("filter", source, "--as", READERS / "dv-analyst.yaml", "--now", NOW, "--out", out)
    assert result.exit_code == 0
    assert len(out.read_text().splitlines()) == 7


def test_filter_out_file_is_not_written_on_bad_input(tmp_path: Path) -> None:
    source = tmp_path / "items.jsonl"
    good = json.dumps(yaml.safe_load((ITEMS / "hum-001-container.yaml").read_text()), default=str)
    source.write_text(good + "\n{not json\n")
    out = tmp_path / "out.jsonl"
    result = run("filter", source, "--as", READERS / "dv-analyst.yaml", "--now", NOW, "--out", out)
    assert result.exit_code == 2
    assert f"{source}:2" in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [source]  # no temporary file left behind


@pytest.mark.parametrize("document", ["item", "principal"])
def test_schema_prints_json_schema(document: str) -> None:
    result = run("schema", document)
    schema = json.loads(result.output)
    assert schema["additionalProperties"] is False
    if document == "item":
        assert schema["properties"]["classification"]["enum"] == [
            "OFFICIAL",
            "OFFICIAL-SENSITIVE",
            "SECRET",
            "TOP SECRET",
        ]


def test_demo_prints_the_table_and_an_agency_gist() -> None:
    result = run("demo")
    assert result.exit_code == 0
    assert "agency-0042" in result.output
    assert "What agency-0042" in result.output
    assert "[TEARLINE]" in result.output


# -- bad input: one line, exit 2, naming file and field ---------------------------

BASE_ITEM: dict[str, Any] = yaml.safe_load((ITEMS / "hum-001-container.yaml").read_text())


def _write(tmp: Path, data: Any, name: str = "item.json") -> Path:
    path = tmp / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, default=str))
    return path


BAD_ITEMS = {
    "malformed json": ('{"id": "x",', "not valid JSON"),
    "unknown field": ({**BASE_ITEM, "colour": "red"}, "item `?`: unknown field"),
    "misplaced field": (
        {**BASE_ITEM, "portions": [{**BASE_ITEM["portions"][0], "min_vetting": "SC"}]},
        "item `portions.0.min_vetting`: unknown field",
    ),
    "unknown vetting": (
        {**BASE_ITEM, "required_vetting": "XV"},
        "`required_vetting`: unknown vetting level: not a level of the profile",
    ),
    "missing owner": (
        {k: v for k, v in BASE_ITEM.items() if k != "owner"},
        "`owner`: field required",
    ),
    "code C without conditions": (
        {**BASE_ITEM, "grading": {"source": "2", "intelligence": "B", "handling_code": "C"}},
        "handling code `C` requires `conditions`",
    ),
    "required below classification": (
        {**BASE_ITEM, "classification": "SECRET", "required_vetting": "CTC"},
        "`required_vetting` `CTC` is below `SC`",
    ),
    "duplicate key": ('{"id": "a", "id": "b"}', "not valid JSON (duplicate key)"),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS))
def test_bad_item_is_one_line_exit_2(tmp_path: Path, case: str) -> None:
    data, expected = BAD_ITEMS[case]
    path = _write(tmp_path, data)
    result = run("view", path, "--as", READERS / "bf-intel-officer.yaml", "--now", NOW)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_reader_names_the_field(tmp_path: Path) -> None:
    reader = yaml.safe_load((READERS / "agency-frontline.yaml").read_text())
    reader["vetting"]["level"] = "TS"
    path = _write(tmp_path, reader, "reader.json")
    result = run("view", ITEMS / "hum-001-container.yaml", "--as", path, "--now", NOW)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {path}: principal `vetting.level`: unknown vetting level: "
        "not a level of the profile"
    )


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    result = run("view", tmp_path / "nope.json", "--as", READERS / "dv-analyst.yaml")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.json'}: no such file"


def test_bad_yaml_is_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "id: [unclosed\n", "item.yaml")
    result = run("view", path, "--as", READERS / "dv-analyst.yaml")
    assert result.exit_code == 2
    assert "not valid YAML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_now_without_zone_is_exit_2() -> None:
    result = run(
        "view",
        ITEMS / "hum-001-container.yaml",
        "--as",
        READERS / "dv-analyst.yaml",
        "--now",
        "2026-11-27T10:00:00",
    )
    assert result.exit_code == 2
    assert "zone" in result.stderr


def test_missing_policy_directory_is_exit_2(tmp_path: Path) -> None:
    result = run(
        "view",
        ITEMS / "hum-001-container.yaml",
        "--as",
        READERS / "dv-analyst.yaml",
        "--policy",
        tmp_path / "nowhere",
    )
    assert result.exit_code == 2
    assert (
        result.stderr.strip() == f"error: {tmp_path / 'nowhere'}: policy directory does not exist"
    )


def test_every_listed_command_resolves_and_help_imports_none_of_them() -> None:
    """The lazy door (issue 13 item 8): `--help` lists every command without importing it."""
    import subprocess
    import sys

    from dissemination.cli import COMMANDS

    for name in COMMANDS:
        command = main.get_command(click.Context(main), name)
        assert command is not None
        assert command.name == name
    code = (
        "import sys; from dissemination.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('dissemination', 'sqlalchemy'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()[-1]
    assert "dissemination.decision" not in loaded
    assert "dissemination.cli.core" not in loaded
    assert "sqlalchemy" not in loaded
