"""Docs that run (issue 13 item 7): every shell and Python block of README.md and docs/*.md.

Each document's blocks run in order, in a fresh temporary copy of the
repository (so one block may use a file an earlier one wrote), with the
installed `dissemination` on the PATH:

- a ```sh (or bash, shell, console) block runs with `bash -e -o pipefail`:
  it must exit 0, unless the line before it says `<!-- exit: N -->`;
- a ```python block runs as a script and must exit 0;
- a ```console block is a transcript: each `$ ` line (with its `\\`
  continuation lines) is a command run with bash, and must exit 0 unless the
  line before the block says `<!-- exit: N -->` (then every command of it must
  exit N); the lines after it, up to the next `$ ` line, must appear in order
  among the lines it printed (whitespace collapsed; `...` matches anything,
  a timing such as `0.67s` matches any timing);
- a block whose preceding line is `<!-- not-run: why -->` is not run (the
  reason is required, and the list of such blocks is part of the report);
- where an unlabelled block follows a run block and its preceding line is
  `<!-- output -->`, every non-blank line of it must appear in what the run
  block printed (whitespace collapsed).

Set `DISSEMINATION_DOC_REPORT` to a file to receive the list of blocks run
and not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell"}
RUN = SHELL | {"python", "console"}
FENCE = re.compile(r"^```(\S*)\s*$")
MARK = re.compile(r"^<!--\s*(not-run|exit|output)\s*:?\s*(.*?)\s*-->\s*$")
REPORT: list[str] = []


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block of a document."""

    path: Path
    line: int  # the 1-based line of the opening fence
    language: str
    text: str
    mark: str | None  # `not-run`, `exit` or `output`
    argument: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, with the HTML-comment mark before each."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        previous = lines[index - 1] if index else ""
        mark = MARK.match(previous)
        found.append(
            Block(
                path=path,
                line=index + 1,
                language=opening.group(1).lower(),
                text="\n".join(lines[index + 1 : end]) + "\n",
                mark=mark.group(1) if mark else None,
                argument=mark.group(2) if mark else "",
            )
        )
        index = end + 1
    return found


def _copy_repository(target: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    files = [name for name in listed.stdout.decode().split("\0") if name]
    if listed.returncode != 0 or not files:  # not a git checkout: copy the tree
        shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(".venv", ".git", "*.pyc"))
        return target
    for name in files:
        source, destination = ROOT / name, target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():  # `examples/humber`, `policies/default`: kept as links
            destination.symlink_to(source.readlink())
        elif source.is_file():
            shutil.copy2(source, destination)
    return target


def _environment(home: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment["HOME"] = str(home)  # the registry's default database lives under it
    for name in list(environment):
        if name.startswith("DISSEMINATION_") and name != "DISSEMINATION_TEST_POSTGRES_URL":
            del environment[name]
    return environment


def _run(
    block: Block, directory: Path, environment: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    if block.language == "python":
        script = directory / f".doc-block-{block.line}.py"
        script.write_text(block.text, encoding="utf-8")
        command = [sys.executable, str(script)]
    else:
        command = ["bash", "-e", "-o", "pipefail", "-c", block.text]
    return subprocess.run(
        command,
        cwd=directory,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _words(text: str) -> str:
    return " ".join(text.split())


def transcript(text: str) -> list[tuple[str, list[str]]]:
    """The commands of a console transcript, each with the output lines it shows."""
    commands: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.startswith("$ "):
            if commands and line.strip():
                commands[-1][1].append(line)
            continue
        command = line[2:]
        while command.endswith("\\") and index < len(lines):
            command = command[:-1] + " " + lines[index].strip()
            index += 1
        commands.append((command, []))
    return commands


_LENIENT = re.compile(r"(\.\.\.|\b\d+(?:\.\d+)?s\b)")


def shown_in(expected: list[str], printed: str) -> bool:
    """Whether each expected line matches a printed line, in order (a subsequence)."""
    lines = iter(_words(line) for line in printed.splitlines())
    for line in expected:
        parts = _LENIENT.split(_words(line))
        pattern = "".join(
            re.escape(part) if index % 2 == 0 else ".*" if part == "..." else r"\d+(?:\.\d+)?s"
            for index, part in enumerate(parts)
        )
        if not any(re.fullmatch(pattern, candidate) for candidate in lines):
            return False
    return True


def _run_transcript(block: Block, directory: Path, environment: dict[str, str]) -> None:
    expected_code = int(block.argument) if block.mark == "exit" else 0
    commands = transcript(block.text)
    assert commands, f"{block.name}: a console block with no `$ ` line"
    for command, expected in commands:
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=directory,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        printed = result.stdout + result.stderr
        assert result.returncode == expected_code, (
            f"{block.name}: `{command}` exited {result.returncode}\n{printed[-3000:]}"
        )
        assert shown_in(expected, printed), f"{block.name}: `{command}` printed\n{printed[-3000:]}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_block_of_the_document_runs(document: Path, tmp_path: Path) -> None:
    directory = _copy_repository(tmp_path / "repository")
    environment = _environment(tmp_path / "home")
    (tmp_path / "home").mkdir()
    found = blocks(document)
    last_output: str | None = None
    for block in found:
        if block.mark == "output" and block.language not in RUN:
            assert last_output is not None, f"{block.name}: output with no block run before it"
            for expected in block.text.splitlines():
                if expected.strip():
                    assert _words(expected) in _words(last_output), (block.name, expected)
            continue
        if block.language not in RUN:
            continue
        if block.mark == "not-run":
            assert block.argument, f"{block.name}: `not-run` needs a reason"
            REPORT.append(f"not run  {block.name}  ({block.argument})")
            last_output = None
            continue
        if block.language == "console":
            _run_transcript(block, directory, environment)
            last_output = None
            REPORT.append(f"ran      {block.name}  (console)")
            continue
        result = _run(block, directory, environment)
        expected_code = int(block.argument) if block.mark == "exit" else 0
        assert result.returncode == expected_code, (
            f"{block.name} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        )
        last_output = result.stdout + result.stderr
        REPORT.append(f"ran      {block.name}  ({block.language})")


def test_the_parser_sees_marks_languages_and_lines(tmp_path: Path) -> None:
    document = tmp_path / "d.md"
    document.write_text(
        "text\n<!-- not-run: needs a server -->\n```sh\nserve\n```\n\n"
        "<!-- exit: 1 -->\n```bash\nfalse\n```\n```python\nprint(1)\n```\n"
        "<!-- output -->\n```\n1\n```\n"
    )
    found = blocks(document)
    assert [(b.line, b.language, b.mark, b.argument) for b in found] == [
        (3, "sh", "not-run", "needs a server"),
        (8, "bash", "exit", "1"),
        (11, "python", None, ""),
        (15, "", "output", ""),
    ]
    assert found[2].text == "print(1)\n"


def test_a_transcript_is_read_and_compared_leniently() -> None:
    commands = transcript("$ a \\\n    --b\nout 1\n\n$ c\n")
    assert commands == [("a  --b", ["out 1"]), ("c", [])]
    printed = "x\ncoverage of `d` (/tmp/r/p): rows 1/2\ny\ndone in 1.35s\n"
    assert shown_in(["coverage of `d` (.../p): rows 1/2", "done in 0.67s"], printed)
    assert not shown_in(["done in 0.67s", "coverage of `d` (.../p): rows 1/2"], printed)
    assert not shown_in(["rows 2/2"], printed)


def teardown_module() -> None:
    """Write the list of blocks run and not run, when asked (for the notes)."""
    report = os.environ.get("DISSEMINATION_DOC_REPORT")
    if report:
        Path(report).write_text("\n".join(REPORT) + "\n", encoding="utf-8")


def test_every_design_citation_points_to_a_section_of_docs_design() -> None:
    """`DESIGN §n` in any file names a section of docs/design.md, which is in the repository."""
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (\d+)\.", design, re.MULTILINE))
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    cited: set[str] = set()
    for name in listed.stdout.split():
        path = ROOT / name
        if path.suffix in {".md", ".py", ".yaml", ".csv", ".conf"} and path.is_file():
            cited.update(re.findall(r"DESIGN §(\d+)", path.read_text(encoding="utf-8")))
    assert cited
    assert cited <= sections, cited - sections
