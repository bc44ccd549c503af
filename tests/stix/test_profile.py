"""The `stix:` tables of a profile are checked where the profile is loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dissemination import PolicyError, default_policy, load_policy
from dissemination.policy import DEFAULT_POLICY_DIR


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    return target


def _edit(directory: Path, old: str, new: str) -> None:
    path = directory / "profile.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_default_profile_has_stix_tables() -> None:
    tables = default_policy().stix
    assert tables is not None
    assert tables.export.classification("TOP SECRET") == "red"
    assert tables.import_.acs.classification["TS"] == "TOP SECRET"


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("{OFFICIAL: green,", "{OFFICIAL: green, RESTRICTED: clear,", "tlp_by_classification"),
        ("eDV: red}", "eDV: red, XV: clear}", "tlp_by_vetting"),
        ("      descriptor: green\n", "      descriptor: green\n      shred: clear\n", "handling"),
        ("classification: OFFICIAL     #", "classification: RESTRICTED   #", "classification"),
        ("TS: TOP SECRET}", "TS: COSMIC}", "classification"),
        ("      clear: []\n", "      clear: [{kind: shred}]\n", "tlp.clear"),
        ("      green: []\n", "", "tlp"),
        ("tlp_at_pointer: red", "tlp_at_pointer: purple", "tlp_at_pointer"),
    ],
)
def test_a_bad_table_is_refused_at_load(copied: Path, old: str, new: str, named: str) -> None:
    _edit(copied, old, new)
    with pytest.raises(PolicyError) as caught:
        load_policy(copied)
    message = str(caught.value)
    assert "stix" in message
    assert named in message
    assert "\n" not in message


def test_a_term_the_tables_do_not_name_gets_red(copied: Path) -> None:
    _edit(copied, "OFFICIAL: green, ", "")
    tables = load_policy(copied).stix
    assert tables is not None
    assert tables.export.classification("OFFICIAL") == "red"


def test_a_profile_without_stix_tables_loads(copied: Path) -> None:
    path = copied / "profile.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("# -- STIX 2.1 interchange")])
    assert load_policy(copied).stix is None


def test_the_stix_package_exports_what_it_lists() -> None:
    import dissemination.stix as package

    assert package.__all__ == sorted(package.__all__)
    for name in package.__all__:
        assert getattr(package, name) is not None


@pytest.mark.parametrize("command", ["export", "import", "filter-stix"])
def test_a_profile_without_stix_tables_is_one_line_exit_2(copied: Path, command: str) -> None:
    from click.testing import CliRunner

    from dissemination.cli import main

    path = copied / "profile.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("# -- STIX 2.1 interchange")])
    demo = Path(__file__).resolve().parents[2] / "src" / "dissemination" / "demo" / "humber"
    bundle = Path(__file__).parent / "data" / "using-marking-definitions.json"
    reader = ["--as", str(demo / "readers" / "dv-analyst.yaml")]
    args = {
        "export": ["export", "stix", str(demo / "items" / "hum-001-container.yaml"), *reader],
        "import": ["import", "stix", str(bundle)],
        "filter-stix": ["filter-stix", str(bundle), *reader],
    }[command]
    result = CliRunner().invoke(main, [*args, "--policy", str(copied)])
    assert result.exit_code == 2
    assert result.output == "error: profile `default` has no `stix` tables\n"
