"""Callers authenticate; the reader comes from properties, a directory, or a verified JWT."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from starlette.testclient import TestClient

from dissemination import default_policy
from dissemination.cli import main
from dissemination.service.auth import DirectoryReader, TokenReader, load_callers
from tests.service.support import HUMBER, envelope, make_app, reader_doc


def _add(path: Path, name: str) -> str:
    result = CliRunner().invoke(main, ["callers", "add", name, "--file", str(path)])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_callers_add_prints_a_token_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "callers.txt"
    token = _add(path, "case-system")
    other = _add(path, "port-targeting")
    assert len(token) >= 40
    assert token != other
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert token not in text
    assert other not in text
    assert load_callers(path).names == {"case-system", "port-targeting"}
    again = CliRunner().invoke(main, ["callers", "add", "case-system", "--file", str(path)])
    assert again.exit_code == 2
    assert "already" in again.output


def test_a_callers_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "callers.txt"
    _add(path, "case-system")
    path.chmod(0o644)
    result = CliRunner().invoke(main, ["callers", "add", "another", "--file", str(path)])
    assert result.exit_code == 2
    assert "0600" in result.output
    with pytest.raises(Exception, match="0600"):
        load_callers(path)


def test_requests_without_a_valid_token_are_401(tmp_path: Path) -> None:
    path = tmp_path / "callers.txt"
    token = _add(path, "case-system")
    client = TestClient(make_app(callers=load_callers(path)))
    body = envelope("agency", "container")
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {token}"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer {token}x"},
    ):
        response = client.post("/access/v1/evaluation", json=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthenticated"
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics").status_code == 401
    good = client.post(
        "/access/v1/evaluation", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert good.status_code == 200
    assert good.json()["decision"] is True
    assert client.get("/healthz").status_code == 200  # probes need no token


def test_reader_from_a_directory_by_subject_id() -> None:
    readers = DirectoryReader(HUMBER / "readers", policy=default_policy())
    client = TestClient(make_app(readers=readers))
    body = envelope("agency", "container")
    body["subject"] = {"type": "principal", "id": "bf-io-0117"}
    response = client.post("/access/v1/evaluation", json={**body, "action": {"name": "view:full"}})
    assert response.json()["decision"] is True
    body["subject"] = {"type": "principal", "id": "agency-0042", "properties": reader_doc("nca")}
    # The directory decides who the reader is; properties sent along are not believed.
    assert client.post("/access/v1/evaluation", json=body).json()["context"]["view"] == "gist"
    body["subject"] = {"type": "principal", "id": "nobody-9999"}
    response = client.post("/access/v1/evaluation", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "unknown_subject"
    assert "nobody-9999" not in response.text


@pytest.fixture
def token_setup(tmp_path: Path) -> tuple[Ed25519PrivateKey, TokenReader]:
    key = Ed25519PrivateKey.generate()
    jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="idp-1", alg="EdDSA", use="sig")
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    (tmp_path / "claims.yaml").write_text(
        "issuer: https://idp.example\n"
        "audience: dissemination\n"
        "algorithms: [EdDSA]\n"
        "claims:\n"
        "  id: sub\n"
        "  organisation: org\n"
        "  employment: employment\n"
        "  vetting.level: vetting_level\n"
        "  vetting.expires: vetting_expires\n"
        "  nationality: nationality\n"
        "  roles: roles\n"
        "  groups: groups\n"
    )
    return key, TokenReader(tmp_path / "jwks.json", tmp_path / "claims.yaml")


def _token(key: Ed25519PrivateKey, **overrides: Any) -> str:
    reader = reader_doc("officer")
    claims = {
        "iss": "https://idp.example",
        "aud": "dissemination",
        "exp": int(time.time()) + 600,
        "sub": reader["id"],
        "org": reader["organisation"],
        "employment": reader["employment"],
        "vetting_level": reader["vetting"]["level"],
        "vetting_expires": reader["vetting"]["expires"],
        "nationality": reader["nationality"],
        "roles": reader["roles"],
        "groups": reader["groups"],
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "idp-1"})


def test_reader_from_a_verified_jwt(token_setup: tuple[Ed25519PrivateKey, TokenReader]) -> None:
    key, readers = token_setup
    client = TestClient(make_app(readers=readers))
    body = envelope("agency", "container", "view:full")
    body["subject"] = {"type": "principal", "properties": {"token": _token(key)}}
    response = client.post("/access/v1/evaluation", json=body)
    assert response.json()["decision"] is True  # the officer of the token, not the agency reader

    stranger = Ed25519PrivateKey.generate()
    for token in (
        _token(stranger),
        _token(key, exp=int(time.time()) - 10),
        _token(key, aud="another-service"),
        _token(key, iss="https://evil.example"),
        _token(key)[:-4] + "AAAA",
    ):
        body["subject"] = {"properties": {"token": token}}
        response = client.post("/access/v1/evaluation", json=body)
        assert response.status_code == 401
        assert response.json()["error"] == "bad_token"


def test_jwt_claims_that_make_no_valid_principal_are_400(
    token_setup: tuple[Ed25519PrivateKey, TokenReader],
) -> None:
    key, readers = token_setup
    client = TestClient(make_app(readers=readers))
    body = envelope("agency", "container")
    body["subject"] = {"properties": {"token": _token(key, employment="Nightjar-Secret")}}
    response = client.post("/access/v1/evaluation", json=body)
    assert response.status_code == 400
    assert "employment" in response.json()["message"]
    assert "Nightjar-Secret" not in response.text
