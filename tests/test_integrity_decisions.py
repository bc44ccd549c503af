"""Decisions under `require_signed_labels`: every failure kind gives `none`, never an error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dissemination import (
    DEFAULT_POLICY_DIR,
    Item,
    Policy,
    View,
    decide,
    load_item,
    load_policy,
    load_principal,
)
from dissemination.errors import TrustStoreRequiredError
from dissemination.integrity import LabelVerifier, TrustStore, generate_key, sign_label
from tests.conftest import HUMBER, NOW

BORDER_FORCE = generate_key()
NCA = generate_key()
TRUST = TrustStore.of({"border-force": [BORDER_FORCE], "nca": [NCA]})
READER = load_principal(HUMBER / "readers" / "bf-intel-officer.yaml")


def signed_profile(directory: Path) -> Path:
    """A copy of the default profile with `require_signed_labels: true`."""
    target = directory / "signed-profile"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    profile = target / "profile.yaml"
    text = profile.read_text()
    assert "require_signed_labels: false" in text
    profile.write_text(text.replace("require_signed_labels: false", "require_signed_labels: true"))
    return target


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    policy = load_policy(signed_profile(tmp_path_factory.mktemp("profile")))
    assert policy.settings.require_signed_labels
    return policy


def container(policy: Policy) -> Item:
    return load_item(HUMBER / "items" / "hum-001-container.yaml", policy=policy)


def vehicle(policy: Policy) -> Item:
    return load_item(HUMBER / "items" / "hum-002-vehicle.yaml", policy=policy)


def _unsigned(policy: Policy) -> Item:
    return container(policy)


def _unknown_key(policy: Policy) -> Item:
    return sign_label(container(policy), generate_key())


def _key_of_another_organisation(policy: Policy) -> Item:
    return sign_label(container(policy), NCA)


def _tampered_label_field(policy: Policy) -> Item:
    signed = sign_label(container(policy), BORDER_FORCE)
    return signed.model_copy(update={"handling": signed.handling[1:]})


def _tampered_portion_text(policy: Policy) -> Item:
    signed = sign_label(container(policy), BORDER_FORCE)
    first = signed.portions[0].model_copy(update={"text": "Wave it through"})
    return signed.model_copy(update={"portions": (first, *signed.portions[1:])})


def _swapped_signature(policy: Policy) -> Item:
    other = sign_label(vehicle(policy), BORDER_FORCE)
    return container(policy).model_copy(update={"signature": other.signature})


@pytest.mark.parametrize(
    "make",
    [
        _unsigned,
        _unknown_key,
        _key_of_another_organisation,
        _tampered_label_field,
        _tampered_portion_text,
        _swapped_signature,
    ],
)
def test_each_failure_gives_none_for_label_integrity(strict: Policy, make: object) -> None:
    item = make(strict)  # type: ignore[operator]
    decision = decide(READER, item, now=NOW, policy=strict, label_check=LabelVerifier(TRUST))
    assert decision.view is View.NONE
    assert decision.rules == ("cap.label_integrity",)
    assert decision.reasons[0].text == "label integrity could not be verified"


def test_a_verified_label_decides_as_usual(strict: Policy, policy: Policy) -> None:
    signed = sign_label(container(strict), BORDER_FORCE)
    checked = decide(READER, signed, now=NOW, policy=strict, label_check=LabelVerifier(TRUST))
    plain = decide(READER, container(policy), now=NOW, policy=policy)
    assert checked.view is View.FULL
    assert (checked.view, checked.portions, checked.rules) == (
        plain.view,
        plain.portions,
        plain.rules,
    )


def test_without_a_check_decide_refuses(strict: Policy) -> None:
    """Issue 13: no trust store is a set-up error, refused, not a silent `none` for every item."""
    signed = sign_label(container(strict), BORDER_FORCE)
    with pytest.raises(TrustStoreRequiredError, match="requires signed labels"):
        decide(READER, signed, now=NOW, policy=strict)


def test_a_check_that_raises_fails_closed(strict: Policy) -> None:
    def broken(item: Item) -> bool:
        raise RuntimeError("trust store on fire")

    signed = sign_label(container(strict), BORDER_FORCE)
    decision = decide(READER, signed, now=NOW, policy=strict, label_check=broken)
    assert decision.view is View.NONE


def test_repeated_decisions_verify_once(strict: Policy) -> None:
    verifier = LabelVerifier(TRUST)
    signed = sign_label(container(strict), BORDER_FORCE)
    for _ in range(10):
        decide(READER, signed, now=NOW, policy=strict, label_check=verifier)
    info = verifier.cache_info()
    assert (info.misses, info.hits) == (1, 9)


def test_the_default_profile_does_not_consult_the_check(policy: Policy) -> None:
    calls: list[str] = []

    def check(item: Item) -> bool:
        calls.append(item.id)
        return False

    decision = decide(READER, container(policy), now=NOW, policy=policy, label_check=check)
    assert decision.view is View.FULL
    assert calls == []
