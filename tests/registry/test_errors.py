"""Bad input and broken infrastructure: one clear error, nothing written (issue 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import exc

from dissemination import DisseminationError, RegistryError, RegistryKeyError
from dissemination.errors import UnavailableError
from dissemination.registry import Registry, generate_key, load_keys, parse_keys
from dissemination.registry.database import default_url, display_url, translate
from tests.registry.support import KEYS


class _OrigError(Exception):
    sqlstate = "XX000"


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            exc.OperationalError("SELECT 1", {}, _OrigError("could not connect")),
            "cannot use the database",
        ),
        (exc.IntegrityError("INSERT", {}, _OrigError("duplicate")), "broke a registry constraint"),
        (exc.ProgrammingError("SELECT", {}, _OrigError("no such table")), "refused a statement"),
        (exc.DataError("INSERT", {}, _OrigError("too long")), "database error (_OrigError)"),
        (exc.DBAPIError("SELECT", {}, _OrigError("boom")), "database error (_OrigError)"),
        (exc.NoSuchTableError("registry_claims"), "database error (NoSuchTableError)"),
        (exc.TimeoutError("pool"), "database error (TimeoutError)"),
    ],
)
def test_every_sqlalchemy_error_is_translated(error: exc.SQLAlchemyError, words: str) -> None:
    with pytest.raises(RegistryError) as caught, translate("sqlite:///x"):
        raise error
    assert caught.value.__cause__ is error
    assert words in str(caught.value)
    # Statements and parameters never reach the message.
    assert "SELECT" not in str(caught.value)
    assert "INSERT" not in str(caught.value)


def test_an_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(UnavailableError) as caught:
        Registry("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", keys=KEYS)
    message = str(caught.value)
    assert message.startswith("registry postgresql+psycopg://nobody:***@127.0.0.1:1/none: ")
    assert "the database is unavailable after 5 attempts (cannot use the database" in message
    assert "secret" not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("not a url", "not a database URL"),
        ("mysql://localhost/registry", "unsupported database `mysql`"),
        ("sqlite://", "in-memory SQLite registry cannot be shared"),
        ("postgresql+nosuchdriver://localhost/x", "no driver for this URL"),
    ],
)
def test_a_bad_url_is_a_clear_error(url: str, words: str) -> None:
    with pytest.raises(RegistryError, match=words):
        Registry(url, keys=KEYS)


def test_no_key_is_a_clear_error() -> None:
    with pytest.raises(RegistryKeyError, match="no registry key: set `DISSEMINATION_REGISTRY_KEY`"):
        load_keys(environ={})


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no key in it"),
        ("k1", "must be `ID:SECRET`"),
        ("k1:c2hvcnQ", "too short"),
        ("k1:!!!!", "not URL-safe base64"),
        (f"{'k1:' + 'a' * 43}, {'k1:' + 'b' * 43}", "key `k1` is given twice"),
        ("bad id:" + "a" * 43, "must be `ID:SECRET`"),
    ],
)
def test_malformed_keys_are_clear_errors(text: str, words: str) -> None:
    with pytest.raises(RegistryKeyError, match=words) as caught:
        parse_keys(text, source="<test>")
    # A message never carries key material.
    assert "a" * 20 not in str(caught.value)


def test_keys_come_from_the_file_then_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "registry.keys"
    key_file.write_text(f"# registry keys\n{generate_key('k1')}\n{generate_key('k2')}\n")
    key_file.chmod(0o600)
    assert load_keys(key_file, environ={}).ids == ("k1", "k2")
    environ = {"DISSEMINATION_REGISTRY_KEY_FILE": str(key_file)}
    assert load_keys(environ=environ).ids == ("k1", "k2")
    assert load_keys(environ={"DISSEMINATION_REGISTRY_KEY": "e1:" + "a" * 43}).ids == ("e1",)
    key_file.chmod(0o644)
    with pytest.raises(RegistryKeyError, match="can be read by other users"):
        load_keys(key_file, environ={})
    with pytest.raises(RegistryKeyError, match="no such key file"):
        load_keys(tmp_path / "missing.keys", environ={})


def test_generated_keys_are_fresh_and_well_formed() -> None:
    first, second = generate_key("k1"), generate_key("k1")
    assert first != second
    assert parse_keys(first, source="<new>").ids == ("k1",)
    with pytest.raises(RegistryKeyError):
        generate_key("not an id")


def test_the_key_ring_never_prints_its_secrets() -> None:
    assert "a" * 20 not in repr(KEYS)
    assert "secret" not in repr(KEYS.keys[0]).replace("secret=", "")


def test_the_default_registry_is_a_file_in_the_user_data_directory() -> None:
    assert default_url({"XDG_DATA_HOME": "/data"}) == (
        "sqlite:////data/dissemination/registry.sqlite"
    )
    assert default_url({"DISSEMINATION_REGISTRY_URL": "postgresql+psycopg://h/db"}) == (
        "postgresql+psycopg://h/db"
    )
    home = Path("~").expanduser()
    assert default_url({}) == f"sqlite:///{home}/.local/share/dissemination/registry.sqlite"


def test_display_url_hides_the_password() -> None:
    assert display_url("postgresql+psycopg://u:pw@h/db") == "postgresql+psycopg://u:***@h/db"


def test_registry_errors_belong_to_the_one_tree() -> None:
    assert issubclass(RegistryKeyError, RegistryError)
    assert issubclass(RegistryError, DisseminationError)
