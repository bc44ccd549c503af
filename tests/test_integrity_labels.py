"""Signed labels: sign then verify round-trips; any single change is detected."""

from __future__ import annotations

import base64
import gc
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    PublicFormat,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissemination import DocumentError, InvalidLabelSignature, KeyFileError, parse_item
from dissemination.integrity import (
    LabelVerifier,
    TrustStore,
    canonical_label,
    generate_key,
    key_id,
    load_private_key,
    load_public_key,
    load_trust_store,
    sign_label,
    signing,
    verify_label,
    write_key_pair,
)
from dissemination.models import Item
from tests.strategies import item_data, items, label_changes

BORDER_FORCE = generate_key()
NCA = generate_key()
TRUST = TrustStore.of({"border-force": [BORDER_FORCE], "nca": [NCA], "hmrc": [generate_key()]})
KEYS = {"border-force": BORDER_FORCE, "nca": NCA}


def originator_key(item: Item) -> Any:
    organisation = item.originator.organisation
    if organisation not in KEYS:
        KEYS[organisation] = generate_key()
    return KEYS[organisation]


def trust_all() -> TrustStore:
    return TrustStore.of({org: [key] for org, key in KEYS.items()})


def reason(item: Item, trust: TrustStore) -> str:
    with pytest.raises(InvalidLabelSignature) as caught:
        verify_label(item, trust)
    return caught.value.reason


def example_item(**changes: Any) -> Item:
    data: dict[str, Any] = {
        "id": "HUM-1",
        "title": "Suspected concealment",
        "created": "2026-11-20T09:14:00Z",
        "classification": "OFFICIAL-SENSITIVE",
        "originator": {"organisation": "border-force", "unit": "FIC Hull"},
        "owner": {"organisation": "border-force", "unit": "FIC Hull", "contact": "fic@x.gov.uk"},
        "handling": [{"kind": "releasable_to", "organisations": ["nca"]}],
        "subjects": [{"type": "container", "value": "MSCU1234566"}],
        "portions": [
            {"id": "p1", "category": "tearline", "text": "Stop and examine"},
            {
                "id": "p2",
                "category": "source",
                "text": "A source",
                "marking": {"min_vetting": "DV"},
            },
        ],
    }
    data.update(changes)
    return parse_item(data)


# -- round trip and single changes (hypothesis) ------------------------------------


@given(items())
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_sign_then_verify_round_trips_through_json(item: Item) -> None:
    signed = sign_label(item, originator_key(item))
    assert verify_label(signed, trust_all()) == signed.signature
    text = json.dumps(signed.model_dump(mode="json", exclude_none=True))
    assert verify_label(parse_item(json.loads(text)), trust_all()) == signed.signature


@given(st.data())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_any_single_change_is_detected(data: st.DataObject) -> None:
    original = data.draw(item_data())
    kind, changed = data.draw(label_changes(original))
    signed = sign_label(parse_item(original), originator_key(parse_item(original)))
    tampered = parse_item(changed).model_copy(update={"signature": signed.signature})
    assert reason(tampered, trust_all()) == "mismatch", kind
    warm = LabelVerifier(trust_all())  # has answered for the original: no cache poisoning
    assert warm(signed)
    assert warm(tampered) is False


@given(items(), items())
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_a_signature_swapped_between_items_is_detected(first: Item, second: Item) -> None:
    second = second.model_copy(update={"id": "IT-2"})
    signed_first = sign_label(first, originator_key(first))
    signed_second = sign_label(second, originator_key(second))
    swapped = signed_second.model_copy(update={"signature": signed_first.signature})
    assert reason(swapped, trust_all()) in {"mismatch", "wrong_organisation"}


# -- each failure kind -------------------------------------------------------------


def test_an_unsigned_item_fails() -> None:
    item = example_item()
    assert reason(item, TRUST) == "unsigned"


def test_a_key_the_store_does_not_hold_fails() -> None:
    signed = sign_label(example_item(), generate_key())
    assert reason(signed, TRUST) == "unknown_key"


def test_a_key_of_another_organisation_fails() -> None:
    signed = sign_label(example_item(), NCA)  # signs for border-force with nca's key
    assert reason(signed, TRUST) == "unknown_key"


def test_a_signature_claiming_another_organisation_fails() -> None:
    signed = sign_label(example_item(), NCA)
    assert signed.signature is not None
    claimed = signed.signature.model_copy(update={"organisation": "nca"})
    assert reason(signed.model_copy(update={"signature": claimed}), TRUST) == "wrong_organisation"


def test_a_changed_signature_value_fails() -> None:
    signed = sign_label(example_item(), BORDER_FORCE)
    assert signed.signature is not None
    raw = bytearray(base64.b64decode(signed.signature.value))
    raw[0] ^= 1
    flipped = signed.signature.model_copy(update={"value": base64.b64encode(raw).decode()})
    with pytest.raises(InvalidLabelSignature) as caught:
        verify_label(signed.model_copy(update={"signature": flipped}), TRUST)
    assert caught.value.reason == "mismatch"
    assert isinstance(caught.value.__cause__, InvalidSignature)  # cryptography's, translated


def test_an_embargo_written_with_another_offset_keeps_its_label() -> None:
    utc = example_item(handling=[{"kind": "embargo", "until": "2026-12-01T12:00:00Z"}])
    paris = example_item(handling=[{"kind": "embargo", "until": "2026-12-01T13:00:00+01:00"}])
    signed = sign_label(utc, BORDER_FORCE)
    verify_label(paris.model_copy(update={"signature": signed.signature}), TRUST)


def test_the_signed_bytes_are_canonical_json_without_content() -> None:
    item = example_item()
    payload = canonical_label(item, organisation="border-force", key_id=key_id(BORDER_FORCE))
    assert rfc8785.dumps(json.loads(payload)) == payload
    assert b"Stop and examine" not in payload
    assert b"MSCU1234566" not in payload
    assert b"Suspected concealment" not in payload


def test_error_messages_are_one_line_and_quote_no_content() -> None:
    signed = sign_label(example_item(), BORDER_FORCE)
    tampered = signed.model_copy(
        update={"portions": (signed.portions[0].model_copy(update={"text": "SECRETWORD"}),)}
    )
    with pytest.raises(InvalidLabelSignature) as caught:
        verify_label(tampered, TRUST)
    message = str(caught.value)
    assert "\n" not in message
    assert "SECRETWORD" not in message
    assert message.replace("`HUM-1`", "") == message.replace("`HUM-1`", "").lower()
    assert not message.endswith(".")


# -- the verification cache ----------------------------------------------------------


def test_the_verifier_caches_by_the_item_digest() -> None:
    verifier = LabelVerifier(TRUST)
    signed = sign_label(example_item(), BORDER_FORCE)
    assert verifier(signed)
    copy = signed.model_copy()  # another object, the same content
    assert copy is not signed
    assert verifier(copy)
    info = verifier.cache_info()
    assert (info.hits, info.misses) == (1, 1)


def test_the_same_item_object_is_answered_without_a_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    digests: list[str] = []
    real = signing.item_digest

    def counted(item: Item) -> bytes:
        digests.append(item.id)
        return real(item)

    monkeypatch.setattr(signing, "item_digest", counted)
    verifier = LabelVerifier(TRUST)
    signed = sign_label(example_item(), BORDER_FORCE)
    tampered = signed.model_copy(update={"handling": ()})
    for _ in range(3):
        assert verifier(signed)
        assert not verifier(tampered)
    assert digests == [signed.id, tampered.id]
    assert verifier.cache_info().hits == 4


def test_an_item_gone_leaves_no_identity_entry() -> None:
    verifier = LabelVerifier(TRUST)
    signed = sign_label(example_item(), BORDER_FORCE)
    assert verifier(signed)
    assert len(verifier._seen) == 1
    del signed
    gc.collect()
    assert verifier._seen == {}


def test_a_tampered_item_misses_the_cache() -> None:
    verifier = LabelVerifier(TRUST)
    signed = sign_label(example_item(), BORDER_FORCE)
    assert verifier(signed)
    tampered = signed.model_copy(update={"handling": ()})
    assert not verifier(tampered)
    assert verifier.cache_info().misses == 2
    assert verifier.failure(tampered) == "mismatch"


def test_the_cache_is_bounded() -> None:
    verifier = LabelVerifier(TRUST, maxsize=2)
    for index in range(5):
        verifier(sign_label(example_item(id=f"HUM-{index}"), BORDER_FORCE))
    assert verifier.cache_info().size == 2
    with pytest.raises(ValueError, match="maxsize"):
        LabelVerifier(TRUST, maxsize=-1)


# -- keys and the trust store: cryptography's errors are translated -------------------


def test_key_files_round_trip_with_private_mode(tmp_path: Path) -> None:
    key = generate_key()
    private, public = write_key_pair(key, organisation="border-force", directory=tmp_path)
    assert private.stat().st_mode & 0o777 == 0o600
    assert key_id(load_private_key(private)) == key_id(key)
    assert key_id(load_public_key(public)) == key_id(key)
    store = load_trust_store(tmp_path)
    assert list(store) == [("border-force", key_id(key))]


def test_key_files_are_never_overwritten(tmp_path: Path) -> None:
    write_key_pair(generate_key(), organisation="nca", directory=tmp_path)
    before = (tmp_path / "nca.key").read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        write_key_pair(generate_key(), organisation="nca", directory=tmp_path)
    assert (tmp_path / "nca.key").read_bytes() == before


def test_a_trust_store_file_may_hold_several_keys(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    pem = b"".join(
        k.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        for k in (old, new)
    )
    (tmp_path / "border-force.pem").write_bytes(b"# rotated 2026-11\n" + pem)
    store = load_trust_store(tmp_path)
    verify_label(sign_label(example_item(), old), store)
    verify_label(sign_label(example_item(), new), store)


def _ec_key() -> Any:
    return generate_private_key(SECP256R1())


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not a PEM private key"),
        (b"garbage", "not a PEM private key"),
        (
            _ec_key().private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"pw")
            ),
            "encrypted",
        ),
        (
            _ec_key()
            .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"pw"))
            .replace(b"ENCRYPTED ", b""),
            "not a PEM private key",
        ),
    ],
)
def test_bad_private_key_files_are_one_line_errors(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "k.key"
    path.write_bytes(content)
    with pytest.raises(KeyFileError, match=problem) as caught:
        load_private_key(path)
    assert "\n" not in str(caught.value)
    assert caught.value.__cause__ is not None


def test_a_private_key_of_another_type_is_named(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    path.write_bytes(_ec_key().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, _no_encryption()))
    with pytest.raises(KeyFileError, match="not an Ed25519 private key"):
        load_private_key(path)


def _no_encryption() -> Any:
    from cryptography.hazmat.primitives.serialization import NoEncryption

    return NoEncryption()


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="no such file"):
        load_private_key(tmp_path / "absent.key")


def test_a_trust_store_refuses_private_keys_and_other_types(tmp_path: Path) -> None:
    (tmp_path / "nca.pem").write_bytes(
        generate_key().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, _no_encryption())
    )
    with pytest.raises(KeyFileError, match="a private key"):
        load_trust_store(tmp_path)
    (tmp_path / "nca.pem").write_bytes(
        _ec_key().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyFileError, match="not an Ed25519 public key"):
        load_trust_store(tmp_path)
    (tmp_path / "nca.pem").write_bytes(
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    )
    with pytest.raises(KeyFileError, match="not a PEM public key") as caught:
        load_trust_store(tmp_path)
    assert caught.value.__cause__ is not None


def test_an_empty_or_missing_trust_store_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="holds no"):
        load_trust_store(tmp_path)
    with pytest.raises(KeyFileError, match="no such directory"):
        load_trust_store(tmp_path / "absent")


# -- a corrupt signature block is a document error ------------------------------------


@pytest.mark.parametrize(
    ("block", "field"),
    [
        (
            {"algorithm": "RSA", "organisation": "x", "key_id": "0" * 32, "value": "AA=="},
            "algorithm",
        ),
        ({"organisation": "x", "key_id": "nothex", "value": "AA=="}, "key_id"),
        ({"organisation": "x", "key_id": "0" * 32, "value": "not base64!"}, "value"),
        ({"organisation": "x", "key_id": "0" * 32, "value": "AAAA"}, "value"),
        # An unknown key is not quoted (it may be content): `?` stands for it.
        ({"organisation": "x", "key_id": "0" * 32, "value": "A" * 86 + "==", "extra": 1}, "?"),
        ("a string", ""),
    ],
)
def test_a_corrupt_signature_block_names_its_field(block: Any, field: str) -> None:
    data = example_item().model_dump(mode="json", exclude_none=True)
    data["signature"] = block
    with pytest.raises(DocumentError) as caught:
        parse_item(data)
    assert caught.value.field == ".".join(part for part in ("signature", field) if part)
