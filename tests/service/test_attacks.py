"""Attacks on the decision service that once got through (each fixed; each a test).

- an authenticated caller could make the server hold a body of any size: the
  8 MiB limit was checked only after the whole body had been read;
- a bundle file the service cannot parse in the expected way (nesting deeper
  than the parser's recursion, an endless file behind a link, a FIFO) escaped
  `PolicySlot.activate` or blocked it: in the watcher thread that ended the
  watching for good, so no later good bundle was ever activated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from starlette.testclient import TestClient

from dissemination import default_policy, load_item, load_principal
from dissemination.integrity import load_trust_store
from dissemination.integrity.bundle import make_bundle
from dissemination.integrity.keys import TrustStore, generate_key, public_key_pem
from dissemination.policy import DEFAULT_POLICY_DIR
from dissemination.service.app import ServiceConfig, create_app
from dissemination.service.auth import PropertiesReader, TokenReader, add_caller, load_callers
from dissemination.service.policy_source import BundleFileWatcher, activate_bundle_file
from dissemination.service.protocol import RequestError
from dissemination.service.state import Active, PolicySlot, ServiceState
from tests.conftest import HUMBER


@contextlib.contextmanager
def _serving(config: ServiceConfig) -> Iterator[int]:
    """A real uvicorn on a free loopback port, in a thread, for the test's duration."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover (a broken environment)
            pytest.fail("the server did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _status_line(sock: socket.socket) -> bytes:
    """The first line of the response, or b'' when none came in time."""
    try:
        return sock.recv(4096).split(b"\r\n", 1)[0]
    except TimeoutError:
        return b""


@pytest.fixture
def token_and_config(tmp_path: Path) -> tuple[str, ServiceConfig]:
    callers = tmp_path / "callers.txt"
    token = add_caller(callers, "pep")
    slot = PolicySlot(Active(default_policy(), "local", "test"))
    config = ServiceConfig(
        state=ServiceState(slot=slot),
        readers=PropertiesReader(),
        callers=load_callers(callers),
    )
    return token, config


def _head(token: str, framing: bytes) -> bytes:
    return (
        b"POST /access/v1/evaluation HTTP/1.1\r\nHost: test\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\n"
        b"Content-Type: application/json\r\n" + framing + b"\r\n"
    )


def test_a_declared_huge_body_is_refused_before_it_is_read(
    token_and_config: tuple[str, ServiceConfig],
) -> None:
    token, config = token_and_config
    with _serving(config) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(5)
        # 1 GB announced, 1 kB sent: the answer must not wait for the rest.
        sock.sendall(_head(token, b"Content-Length: 1000000000\r\n") + b"{" * 1000)
        assert b" 413 " in _status_line(sock)


def test_a_chunked_body_is_refused_once_past_the_limit(
    token_and_config: tuple[str, ServiceConfig],
) -> None:
    token, config = token_and_config
    with _serving(config) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(5)
        sock.sendall(_head(token, b"Transfer-Encoding: chunked\r\n"))
        chunk = b" " * 65536
        sent = 0
        with contextlib.suppress(OSError):  # the server may close as soon as it refuses
            while sent <= 8 * 1024 * 1024 + len(chunk):
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
        # The body never ends: only a server that stops reading at the limit answers.
        assert b" 413 " in _status_line(sock)


def _slot() -> PolicySlot:
    return PolicySlot(Active(default_policy(), "r1", "test"))


def _trust(tmp_path: Path) -> TrustStore:
    store = tmp_path / "trust"
    store.mkdir(exist_ok=True)
    (store / "security-team.pem").write_bytes(public_key_pem(generate_key()))
    return load_trust_store(store)


def test_a_deeply_nested_bundle_is_refused_and_the_last_good_one_kept(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text("[" * 200_000)  # deeper than json's recursion
    slot = _slot()
    assert activate_bundle_file(slot, path, _trust(tmp_path)) is False
    assert slot.active is not None
    assert slot.active.revision == "r1"
    assert slot.problem is not None
    assert "kept revision `r1`" in slot.problem


def test_a_bundle_path_that_is_not_a_regular_file_is_refused_without_waiting(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    endless = tmp_path / "endless.json"
    endless.symlink_to("/dev/zero")
    trust = _trust(tmp_path)
    for path in (fifo, endless):
        slot = _slot()
        done: list[bool] = []
        worker = threading.Thread(
            target=lambda: done.append(activate_bundle_file(slot, path, trust)),  # noqa: B023
            daemon=True,
        )
        worker.start()
        worker.join(timeout=10)
        assert done == [False], path.name
        assert slot.active is not None
        assert slot.active.revision == "r1"


def test_the_watcher_survives_a_bundle_that_breaks_the_parser(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text("{}")
    slot = _slot()
    watcher = BundleFileWatcher(slot, path, _trust(tmp_path), interval=0.02)
    watcher.start()
    try:
        path.write_text("[" * 200_000)
        deadline = time.monotonic() + 10
        while slot.problem is None or "not JSON" not in slot.problem:
            assert time.monotonic() < deadline, "the bad bundle was never looked at"
            time.sleep(0.02)
        assert watcher._thread is not None
        assert watcher._thread.is_alive()  # it still watches for the next bundle
    finally:
        watcher.stop()


@pytest.mark.parametrize("sent", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_time_at_the_calendars_edge_is_a_400_naming_the_field(sent: str) -> None:
    """Once a 500 (an OverflowError when the decision compared times)."""
    reader = load_principal(HUMBER / "readers" / "nca-partner.yaml").model_dump(mode="json")
    item = load_item(HUMBER / "items" / "hum-005-embargo.yaml").model_dump(
        mode="json", exclude_none=True
    )
    config = ServiceConfig(
        state=ServiceState(slot=_slot()), readers=PropertiesReader(), callers=None
    )
    with TestClient(create_app(config)) as client:
        answer = client.post(
            "/access/v1/evaluation",
            json={
                "subject": {"type": "principal", "properties": reader},
                "resource": {"type": "item", "properties": item},
                "action": {"name": "view:full"},
                "context": {"time": sent},
            },
        )
    assert answer.status_code == 400
    assert "`context.time`" in answer.json()["message"]
    assert sent[:4] not in answer.text


def test_a_subject_id_that_is_not_the_tokens_reader_is_refused(tmp_path: Path) -> None:
    """A caller naming one reader in `subject.id` and sending another's token.

    With `subject.properties` the mismatch was refused; with a JWT the decision
    silently went to the token's reader while the caller believed it was for
    the one it named.
    """
    key = Ed25519PrivateKey.generate()
    jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    (tmp_path / "claims.yaml").write_text(
        "claims: {id: sub, organisation: org, employment: emp,"
        " vetting.level: lvl, nationality: nat}\n"
    )
    reader = TokenReader(tmp_path / "jwks.json", tmp_path / "claims.yaml")
    claims = {
        "sub": "bf-0001",
        "org": "border-force",
        "emp": "crown-servant",
        "lvl": "SC",
        "nat": "GBR",
        "exp": int(time.time()) + 300,
    }
    token = jwt.encode(claims, key, algorithm="EdDSA")
    policy = default_policy()
    assert reader.reader({"properties": {"token": token}}, where="subject", policy=policy).id == (
        "bf-0001"
    )
    assert (
        reader.reader(
            {"id": "bf-0001", "properties": {"token": token}}, where="subject", policy=policy
        ).id
        == "bf-0001"
    )
    with pytest.raises(RequestError) as refused:
        reader.reader(
            {"id": "someone-else", "properties": {"token": token}}, where="subject", policy=policy
        )
    assert refused.value.status == 400
    assert "someone-else" not in refused.value.message


def test_an_older_signed_bundle_does_not_roll_the_policy_back(tmp_path: Path) -> None:
    """A replayed bundle, good signature and all, signed before the active one.

    Whoever can write the bundle file (or the policy table, which nodes do not
    trust with the policy) could put back a revision the security team had
    replaced, say before a tightening; every node activated it.
    """
    key = generate_key()
    trust_dir = tmp_path / "trust"
    trust_dir.mkdir()
    (trust_dir / "security-team.pem").write_bytes(public_key_pem(key))
    trust = load_trust_store(trust_dir)
    profile = tmp_path / "profile"
    shutil.copytree(DEFAULT_POLICY_DIR, profile)
    old = make_bundle(profile, key=key, revision="r1", now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    new = make_bundle(profile, key=key, revision="r2", now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    path = tmp_path / "bundle.json"
    slot = PolicySlot()
    path.write_text(json.dumps(new))
    assert activate_bundle_file(slot, path, trust)
    path.write_text(json.dumps(old))
    assert not activate_bundle_file(slot, path, trust)
    assert slot.active is not None
    assert slot.active.revision == "r2"
    assert slot.problem is not None
    assert "kept revision `r2`" in slot.problem
    again = make_bundle(profile, key=key, revision="r1", now=dt.datetime(2026, 7, 1, tzinfo=dt.UTC))
    path.write_text(json.dumps(again))  # going back is signing anew
    assert activate_bundle_file(slot, path, trust)
    assert slot.active.revision == "r1"
