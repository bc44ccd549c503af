"""`dissemination registry ...`: JSON out, exit code 2 and nothing written on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dissemination.cli import main
from tests.conftest import HUMBER

NOW = "2026-11-27T10:00:00Z"
AGENCY = HUMBER / "readers" / "agency-frontline.yaml"
OFFICER = HUMBER / "readers" / "bf-intel-officer.yaml"
NCA = HUMBER / "readers" / "nca-partner.yaml"


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A key file and a database URL in the environment; returns (key file, database file)."""
    database = tmp_path / "registry.sqlite"
    monkeypatch.setenv("DISSEMINATION_REGISTRY_URL", f"sqlite:///{database}")
    monkeypatch.delenv("DISSEMINATION_REGISTRY_KEY", raising=False)
    monkeypatch.delenv("DISSEMINATION_REGISTRY_KEY_FILE", raising=False)
    keys = tmp_path / "registry.keys"
    keys.write_text(run("registry", "keygen", "k1").output)
    keys.chmod(0o600)
    upgraded = run("registry", "upgrade", "--key-file", keys)
    assert upgraded.stdout == "registry created at schema revision 0003\n", upgraded.stderr
    return keys, database


def run(*args: Any) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def test_register_then_lookup_as_two_readers(setup: tuple[Path, Path]) -> None:
    keys, _ = setup
    registered = run(
        "registry",
        "register",
        HUMBER / "items",
        "--key-file",
        keys,
        "--now",
        NOW,
        "--format",
        "json",
    )
    assert registered.exit_code == 0, registered.stderr
    documents = json.loads(registered.output)
    first = documents[0]["subjects"][0]
    assert (first["subject"], first["outcome"]) == ("s1", "new")

    officer = run(
        "registry", "lookup", "container", "mscu 123456-6", "--as", OFFICER, "--key-file", keys,
        "--now", NOW, "--format", "json",
    )  # fmt: skip
    assert officer.exit_code == 0, officer.stderr
    answer = json.loads(officer.output)
    assert answer["owner"]["unit"] == "FIC Hull"
    assert answer["items"][0]["view"] == "full"

    # The vehicle's entry in HUM-2026-000123 needs SC: the agency officer sees
    # only the other item, and not the owner whose claim rests on the first.
    agency = run(
        "registry", "lookup", "vehicle", "AB12 CDE", "--as", AGENCY, "--key-file", keys,
        "--now", NOW, "--format", "json",
    )  # fmt: skip
    answer = json.loads(agency.output)
    assert answer["owner"] is None
    assert [linked["item"] for linked in answer["items"]] == ["HUM-2026-000124"]


def test_life_cycle_and_rekey(setup: tuple[Path, Path]) -> None:
    keys, database = setup
    run("registry", "register", HUMBER / "items", "--key-file", keys, "--now", NOW)
    subject = ["container", "MSCU1234566", "--key-file", keys, "--now", NOW]
    moved = run(
        "registry", "transfer", *subject, "--to-organisation", "nca", "--to-unit", "OCG",
        "--to-contact", "ocg@example.gov.uk", "--as", OFFICER, "--reason", "hand-off",
    )  # fmt: skip
    assert moved.exit_code == 0, moved.stderr
    # A renewal with a shorter period keeps the later expiry: it never shortens a claim.
    renewed = run("registry", "renew", *subject, "--as", NCA, "--claim-days", "30")
    assert "2027-05-26T10:00:00Z" in renewed.output
    with keys.open("a") as handle:
        handle.write(run("registry", "keygen", "k2").output)
    rekeyed = run("registry", "rekey", "--key-file", keys, "--format", "json")
    assert json.loads(rekeyed.output) == {"added": ["k2"], "keys": ["k1", "k2"]}
    history = run("registry", "history", *subject, "--as", NCA, "--format", "json")
    events = json.loads(history.output)["events"]
    assert [(event["action"], event["actor"]) for event in events] == [
        ("link", "ingest"),
        ("claim", "ingest"),
        ("transfer", "bf-io-0117"),
        ("renew", "nca-0310"),
    ]
    released = run("registry", "release", *subject, "--as", NCA, "--reason", "closed")
    assert released.exit_code == 0
    assert database.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["transfer", "--to-organisation", "hmrc", "--to-unit", "u", "--to-contact", "c",
         "--reason", "mine now"],
        ["renew"],
        ["release", "--reason", "not mine"],
        ["history"],
    ],
)  # fmt: skip
def test_a_principal_outside_the_owners_organisation_is_refused_and_recorded(
    setup: tuple[Path, Path], command: list[str]
) -> None:
    keys, _ = setup
    run("registry", "register", HUMBER / "items", "--key-file", keys, "--now", NOW)
    subject = ["container", "MSCU1234566", "--key-file", keys, "--now", NOW]
    refused = run("registry", command[0], *subject, "--as", NCA, *command[1:])
    assert refused.exit_code == 1
    assert refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "refused for `nca-0310`" in lines[0]
    # The owner is unchanged and the refusal is in the history, NCA's id its actor.
    history = run("registry", "history", *subject, "--as", OFFICER, "--format", "json")
    found = json.loads(history.output)
    assert found["claim"]["owner"]["organisation"] == "border-force"
    assert (found["events"][-1]["action"], found["events"][-1]["actor"]) == (
        "refused",
        "nca-0310",
    )


def test_a_registry_administrator_may_hand_off_any_claim(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    keys, _ = setup
    run("registry", "register", HUMBER / "items", "--key-file", keys, "--now", NOW)
    admin = tmp_path / "admin.yaml"
    admin.write_text(
        "id: reg-admin-1\norganisation: registry-ops\nemployment: crown-servant\n"
        "nationality: GBR\nroles: [registry-admin]\n"
    )
    subject = ["container", "MSCU1234566", "--key-file", keys, "--now", NOW]
    moved = run(
        "registry", "transfer", *subject, "--to-organisation", "nca", "--to-unit", "OCG",
        "--to-contact", "ocg@example.gov.uk", "--as", admin, "--reason", "dispute settled",
    )  # fmt: skip
    assert moved.exit_code == 0, moved.stderr
    history = run("registry", "history", *subject, "--as", admin, "--format", "json")
    assert json.loads(history.output)["events"][-1]["actor"] == "reg-admin-1"


def _database_bytes(database: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(database.parent.glob(f"{database.name}*")))


def test_a_bad_identifier_exits_2_and_writes_nothing(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    keys, database = setup
    run("registry", "register", HUMBER / "items" / "hum-002-vehicle.yaml", "--key-file", keys)
    before = _database_bytes(database)
    bad = (
        (HUMBER / "items" / "hum-001-container.yaml")
        .read_text()
        .replace("value: MSCU1234566", "value: MSCU1234565")
    )
    (tmp_path / "bad.yaml").write_text(bad)
    good = HUMBER / "items" / "hum-003-vessel.yaml"
    result = run("registry", "register", good, tmp_path / "bad.yaml", "--key-file", keys)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {tmp_path / 'bad.yaml'}: `subjects.0` invalid `container` identifier: "
        "check digit does not match (ISO 6346)"
    )
    assert _database_bytes(database) == before  # not even the good item was written
    lookup = run(
        "registry", "lookup", "container", "MSCU1234565", "--as", OFFICER, "--key-file", keys
    )
    assert lookup.exit_code == 2
    assert "invalid `container` identifier" in lookup.stderr


@pytest.mark.parametrize(
    ("extra", "env", "words", "code"),
    [
        ([], {}, "no registry key", 2),
        (
            ["--db", "postgresql+psycopg://u:pw@127.0.0.1:1/x"],
            {"key": True},
            "cannot use the database",
            3,  # the environment failed (issue 13 item 6)
        ),
        (["--db", "mysql://h/x"], {"key": True}, "unsupported database `mysql`", 2),
    ],
)
def test_infrastructure_errors_exit_2_or_3_in_one_line(
    setup: tuple[Path, Path], extra: list[str], env: dict[str, bool], words: str, code: int
) -> None:
    keys, database = setup
    before = _database_bytes(database)
    key_args = ["--key-file", str(keys)] if env.get("key") else []
    result = run("registry", "history", "vehicle", "AB12CDE", "--as", OFFICER, *key_args, *extra)
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert words in lines[0]
    assert "pw" not in lines[0]
    assert _database_bytes(database) == before


def test_a_wrong_key_exits_2(setup: tuple[Path, Path], tmp_path: Path) -> None:
    keys, _ = setup
    run("registry", "register", HUMBER / "items", "--key-file", keys)
    wrong = tmp_path / "wrong.keys"
    wrong.write_text(run("registry", "keygen", "k1").output)
    wrong.chmod(0o600)
    result = run("registry", "history", "vehicle", "AB12CDE", "--as", OFFICER, "--key-file", wrong)
    assert result.exit_code == 2
    assert "key `k1` is not the key this registry was keyed with" in result.stderr


# -- the disclosure trail ---------------------------------------------------------------------


def test_lookup_records_what_it_shows_in_the_trail(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    keys, _ = setup
    assert run("registry", "register", HUMBER / "items", "--key-file", keys).exit_code == 0
    trail_keys = tmp_path / "trail-keys"
    trail_keys.mkdir()
    assert run("keys", "generate", "--org", "trail", "--out", trail_keys).exit_code == 0
    log = tmp_path / "trail.jsonl"
    audit = ["--audit", log, "--audit-key", trail_keys / "trail.key", "--checkpoint-every", "1"]
    shown = []
    for who in (OFFICER, AGENCY):
        result = run(
            "registry", "lookup", "vehicle", "ab12 cde", "--as", who, "--key-file", keys,
            "--now", NOW, "--format", "json", *audit,
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        answer = json.loads(result.output)
        shown += [(linked["item"], linked["view"]) for linked in answer["items"]]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["item"], r["view"]) for r in records] == shown
    assert len(shown) == 3  # the officer sees both items, the agency officer one
    # The agency officer may not know HUM-2026-000123 concerns the vehicle: not recorded.
    assert [r["reader"] for r in records].count("agency-0042") == 1
    assert all(r["portions"] == [] and r["subjects"] == [] for r in records)
    text = log.read_text()
    for withheld in ("AB12CDE", "AB12 CDE", "ab12", "tractor", "tobacco", "Vehicle"):
        assert withheld not in text
    verified = run("audit", "verify", log, "--key", trail_keys / "trail.pem")
    assert verified.exit_code == 0, verified.output
    assert "signatures verified" in verified.output


def test_lookup_shows_nothing_when_the_trail_cannot_be_written(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    keys, _ = setup
    run("registry", "register", HUMBER / "items", "--key-file", keys)
    log = tmp_path / "trail.jsonl"
    log.write_text('{"seq": 1, "ite')  # a record half-written by a crash
    result = run(
        "registry", "lookup", "container", "MSCU1234566", "--as", OFFICER, "--key-file", keys,
        "--now", NOW, "--audit", log,
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "half-written" in result.stderr
    assert log.read_text() == '{"seq": 1, "ite'


def test_ordinary_commands_never_create_a_registry(tmp_path: Path) -> None:
    keys = tmp_path / "registry.keys"
    keys.write_text(run("registry", "keygen", "k1").output)
    keys.chmod(0o600)
    missing = tmp_path / "typo" / "registry.sqlite"
    absent = tmp_path / "absent.sqlite"
    for target, words in [
        (missing, "the folder of the database file does not exist"),
        (absent, "no registry at this path: create it with `dissemination registry upgrade`"),
    ]:
        for command in (
            ["lookup", "container", "MSCU1234566", "--as", OFFICER],
            ["register", HUMBER / "items"],
        ):
            result = run("registry", *command, "--db", f"sqlite:///{target}", "--key-file", keys)
            assert result.exit_code == 2
            assert result.stdout == ""
            assert result.stderr.count("\n") == 1
            assert words in result.stderr
    assert list(tmp_path.iterdir()) == [keys]


def test_lookup_read_only(setup: tuple[Path, Path]) -> None:
    keys, _ = setup
    run("registry", "register", HUMBER / "items", "--key-file", keys, "--now", NOW)
    found = run(
        "registry", "lookup", "container", "MSCU1234566", "--as", OFFICER, "--key-file", keys,
        "--read-only", "--now", NOW, "--format", "json",
    )  # fmt: skip
    assert found.exit_code == 0, found.stderr
    assert json.loads(found.stdout)["owner"]["unit"] == "FIC Hull"


def test_registering_an_older_version_stores_nothing_and_says_so(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    """Issue 13 found item 2: v2 then v1 keeps v2; one line reports v1 (exit 0: nothing lost)."""
    keys, _ = setup
    text = (HUMBER / "items" / "hum-001-container.yaml").read_text()
    newer, older = tmp_path / "v2.yaml", tmp_path / "v1.yaml"
    newer.write_text(text + "version: 2\n")
    older.write_text(text + "version: 1\n")
    first = run("registry", "register", newer, "--key-file", keys, "--now", NOW)
    assert first.exit_code == 0, first.stderr
    again = run("registry", "register", older, "--key-file", keys, "--now", NOW)
    assert again.exit_code == 0, again.stderr
    [line] = again.output.splitlines()
    assert line.endswith(": version 1 is older than the one registered: nothing stored")
    shown = run("registry", "register", older, "--key-file", keys, "--now", NOW, "--format", "json")
    [entry] = json.loads(shown.output)
    assert (entry["superseded"], entry["subjects"]) == (True, [])
