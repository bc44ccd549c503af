"""`filter` on bulk input (issue 13 item 5): stop or skip, rejects, stdin, JSON Lines by content.

A bad record at line 5,001 of 10,000 used to stop `filter` after 5,000 lines
were streamed, with no way to skip it; `items.json` holding one document per
line failed ("extra data at line 2"); there was no `-` for standard input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from dissemination.cli import main
from tests.conftest import HUMBER

READER = HUMBER / "readers" / "dv-analyst.yaml"
NOW = "2026-11-27T10:00:00Z"
CONTENT = "Nightjar-Zanzibar"
"""Content of a bad record: it must reach no output, rejects file or summary."""

ITEM: dict[str, Any] = json.loads(
    json.dumps(
        yaml.safe_load((HUMBER / "items" / "hum-001-container.yaml").read_text()), default=str
    )
)


def run(*args: str | Path, stdin: str | None = None) -> Any:
    return CliRunner().invoke(main, [str(arg) for arg in args], input=stdin)


def corpus(tmp_path: Path, count: int, bad: set[int], name: str = "items.jsonl") -> Path:
    """`count` JSON Lines items, those at 1-based lines in `bad` broken (quoting `CONTENT`)."""
    lines = []
    for number in range(1, count + 1):
        document = {**ITEM, "id": f"IT-{number}"}
        if number in bad:
            document["classification"] = CONTENT  # not a term of the profile
            document[CONTENT] = 1  # and an unknown key
        lines.append(json.dumps(document))
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_stop_is_the_default_and_says_where(tmp_path: Path) -> None:
    source = corpus(tmp_path, 6, {4})
    result = run("filter", source, "--as", READER, "--now", NOW)
    assert result.exit_code == 2
    assert len(result.stdout.splitlines()) == 3  # streamed before the bad record
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: {source}:4: ")
    assert "filter: read 4, shown 3, rejected 1 (stopped" in result.stderr
    assert CONTENT not in result.output


def test_stop_with_out_writes_nothing(tmp_path: Path) -> None:
    source = corpus(tmp_path, 6, {5})
    out = tmp_path / "out.jsonl"
    result = run("filter", source, "--as", READER, "--now", NOW, "--out", out)
    assert result.exit_code == 2
    assert not out.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["items.jsonl"]


def test_skip_goes_on_and_rejects_name_the_line_never_the_content(tmp_path: Path) -> None:
    source = corpus(tmp_path, 10_000, {5_001, 7_777})
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.txt"
    result = run(
        "filter", source, "--as", READER, "--now", NOW,
        "--on-error", "skip", "--out", out, "--rejects", rejects,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 9_998
    lines = rejects.read_text().splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{source}:5001", f"{source}:7777"]
    assert CONTENT not in rejects.read_text()
    assert CONTENT not in out.read_text()
    assert result.stderr.strip() == "filter: read 10000, shown 9998, rejected 2"


def test_skip_over_a_directory_rejects_a_file(tmp_path: Path) -> None:
    directory = tmp_path / "items"
    directory.mkdir()
    (directory / "a.json").write_text(json.dumps(ITEM))
    (directory / "b.json").write_text(json.dumps({**ITEM, "id": "IT-2", "colour": CONTENT}))
    rejects = tmp_path / "rejects.txt"
    result = run(
        "filter", directory, "--as", READER, "--now", NOW, "--on-error", "skip",
        "--rejects", rejects,
    )  # fmt: skip
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 1
    assert rejects.read_text().startswith(f"{directory / 'b.json'}: ")
    assert CONTENT not in rejects.read_text()


@pytest.mark.parametrize("name", ["items.json", "items", "items.txt", "items.jsonl"])
def test_json_lines_are_recognised_by_content(tmp_path: Path, name: str) -> None:
    source = corpus(tmp_path, 3, set(), name=name)
    result = run("filter", source, "--as", READER, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3


def test_a_pretty_printed_json_item_is_still_one_item(tmp_path: Path) -> None:
    source = tmp_path / "item.json"
    source.write_text(json.dumps(ITEM, indent=2))
    result = run("filter", source, "--as", READER, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1


def test_standard_input(tmp_path: Path) -> None:
    text = corpus(tmp_path, 4, {2}).read_text()
    result = run("filter", "-", "--as", READER, "--now", NOW, "--on-error", "skip", stdin=text)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
    assert "filter: read 4, shown 3, rejected 1" in result.stderr
    yaml_item = yaml.safe_dump(ITEM)
    single = run("filter", "-", "--as", READER, "--now", NOW, stdin=yaml_item)
    assert single.exit_code == 0, single.output
    assert len(single.stdout.splitlines()) == 1
