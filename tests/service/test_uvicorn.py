"""`dissemination serve` as a real uvicorn process on a loopback port, plain and TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from pathlib import Path

from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dissemination.cli import main
from tests.service.processes import request, serving
from tests.service.support import envelope


def test_serve_answers_over_http_and_refuses_without_a_token(tmp_path: Path) -> None:
    callers = tmp_path / "callers.txt"
    token = CliRunner().invoke(main, ["callers", "add", "pep", "--file", str(callers)]).output
    token = token.strip()
    with serving("--callers", str(callers)) as (base, _process):
        url = base + "/access/v1/evaluation"
        body = envelope("agency", "container")
        status, _headers, _ = request(url, body)
        assert status == 401
        status, headers, raw = request(
            url, body, headers={"Authorization": f"Bearer {token}", "X-Request-ID": "uv-1"}
        )
        assert status == 200
        answer = json.loads(raw)
        assert answer["decision"] is True
        assert answer["context"]["decision_id"] == "uv-1"
        assert headers["x-request-id"] == "uv-1"
        status, _headers, raw = request(base + "/readyz")
        assert json.loads(raw)["policy"]["revision"] == "local"


def test_serve_refuses_bad_options_before_listening(tmp_path: Path) -> None:
    open_file = tmp_path / "callers.txt"
    open_file.write_text("")
    open_file.chmod(0o644)
    result = CliRunner().invoke(main, ["serve", "--callers", str(open_file)])
    assert result.exit_code == 2
    assert "0600" in result.output
    result = CliRunner().invoke(main, ["serve", "--certfile", str(open_file)])
    assert result.exit_code == 2


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = tmp_path / "cert.pem"
    key_path = tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_speaks_tls_with_certfile_and_keyfile(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(cafile=str(cert))
    with serving(
        "--certfile", str(cert), "--keyfile", str(key), scheme="https", context=context
    ) as (base, _process):
        status, _headers, raw = request(
            base + "/access/v1/evaluation", envelope("agency", "container"), context=context
        )
        assert status == 200
        assert json.loads(raw)["context"]["view"] == "gist"
