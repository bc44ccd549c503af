"""Policies are data: editing a row changes decisions; malformed rows are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dissemination import PolicyError, View, decide, load_policy, parse_item, parse_principal
from dissemination.policy import DEFAULT_POLICY_DIR
from tests.conftest import NOW
from tests.strategies import item_doc, reader_doc

AGENCY_SC = parse_principal(reader_doc(employment="agency"))
ITEM = parse_item(
    item_doc(
        portions=[
            {"id": "p1", "category": "tearline", "text": "x"},
            {"id": "p2", "category": "source", "text": "y"},
        ]
    )
)


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    return target


def _edit(directory: Path, old: str, new: str) -> None:
    path = directory / "policy.csv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_editing_one_row_changes_the_decision_without_code(copied: Path) -> None:
    before = decide(AGENCY_SC, ITEM, now=NOW, policy=load_policy(copied))
    assert before.view is View.SANITISED
    _edit(
        copied,
        "p, cap.agency, employment.agency, sanitised",
        "p, cap.agency, employment.agency & !vetting.at_least.SC, sanitised",
    )
    edited = load_policy(copied)
    after = decide(AGENCY_SC, ITEM, now=NOW, policy=edited)
    assert after.view is View.FULL
    assert after.portions == ("p1", "p2")
    assert after.policy != before.policy  # the digest names the policy that decided


def test_removing_a_content_row_hides_that_category(copied: Path) -> None:
    _edit(copied, "p2, show.gist.tearline, gist, category.tearline, allow\n", "")
    low = parse_principal(reader_doc(vetting={"level": "BPSS"}))
    high_item = ITEM.model_copy(update={"required_vetting": "SC"})
    assert decide(low, high_item, now=NOW).portions == ("p1",)
    assert decide(low, high_item, now=NOW, policy=load_policy(copied)).portions == ()


def test_an_unmatched_request_is_denied(copied: Path) -> None:
    """Deny by default: with no allow rows at all, every view is `none`."""
    path = copied / "policy.csv"
    lines = [
        line
        for line in path.read_text().splitlines()
        if not line.endswith("allow") or line.startswith("p2")
    ]
    path.write_text("\n".join(lines) + "\n")
    assert decide(AGENCY_SC, ITEM, now=NOW, policy=load_policy(copied)).view is View.NONE


BROKEN_ROWS = {
    "p3, x, always, full, -, allow": "unknown row type `p3`",
    "p, x, always, full, allow": "`p` row has 4 fields, expected 5",
    "p, x, employment.agnecy, full, -, deny": "unknown fact `employment.agnecy`",
    "p, x, always, fulll, -, allow": "unknown view `fulll`",
    "p, x, always, full, -, permit": "unknown effect `permit`",
    "p, base.full, always, full, -, allow": "rule id `base.full` is already used on line",
    "p, x, always, none, -, allow": "only a deny row can name `none`",
    "p, x, , full, -, deny": "row has an empty condition",
}


@pytest.mark.parametrize("row", list(BROKEN_ROWS))
def test_malformed_rows_are_refused_with_file_and_line(copied: Path, row: str) -> None:
    path = copied / "policy.csv"
    text = path.read_text()
    path.write_text(text + row + "\n")
    line = len(text.splitlines()) + 1
    with pytest.raises(PolicyError) as caught:
        load_policy(copied)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: ")
    assert BROKEN_ROWS[row] in message


def test_profile_vocabulary_must_be_consistent(copied: Path) -> None:
    path = copied / "profile.yaml"
    path.write_text(path.read_text().replace("TOP SECRET: DV", "TOP SECRET: XDV"))
    with pytest.raises(PolicyError, match="not a vetting level"):
        load_policy(copied)


@pytest.mark.parametrize("name", ["model.conf", "policy.csv", "profile.yaml"])
def test_missing_policy_file(copied: Path, name: str) -> None:
    (copied / name).unlink()
    with pytest.raises(PolicyError, match="policy file is missing"):
        load_policy(copied)


def test_a_broken_casbin_model_is_a_policy_error(copied: Path) -> None:
    (copied / "model.conf").write_text("[request_definition]\nr = facts, view\n")
    with pytest.raises(PolicyError, match=r"has no `r2`|has no section `policy_definition`"):
        load_policy(copied)


def test_vocabulary_comes_from_the_profile(copied: Path) -> None:
    """A profile with another scale validates items against it."""
    path = copied / "profile.yaml"
    text = path.read_text().replace(
        "[BPSS, CTC, SC, eSC, DV, eDV]", "[BPSS, CTC, SC, eSC, DV, eDV, XV]"
    )
    path.write_text(text)
    policy = load_policy(copied)
    assert policy.vocabulary.vetting_levels[-1] == "XV"
    reader = parse_principal(reader_doc(vetting={"level": "xv"}), policy=policy)
    assert reader.vetting is not None
    assert reader.vetting.level == "XV"


ALLOW_BY_DEFAULT = {
    "e = !some(where (p.eft == deny))": "effect `e` must be",
    "e = some(where (p.eft == allow))": "effect `e` must be",
    "e = priority(p.eft) || deny": "effect `e` must be",
}


@pytest.mark.parametrize("effect", list(ALLOW_BY_DEFAULT))
def test_an_effect_that_is_not_deny_overrides_is_refused(copied: Path, effect: str) -> None:
    """A model edited to allow unmatched requests, or to ignore denies, would fail open."""
    path = copied / "model.conf"
    text = path.read_text()
    old = "e = some(where (p.eft == allow)) && !some(where (p.eft == deny))\n"
    assert old in text
    path.write_text(text.replace(old, effect + "\n", 1))
    with pytest.raises(PolicyError, match=ALLOW_BY_DEFAULT[effect]) as caught:
        load_policy(copied)
    assert str(caught.value).startswith(f"{path}:")


def test_a_missing_effect_is_refused(copied: Path) -> None:
    path = copied / "model.conf"
    text = path.read_text()
    path.write_text(
        text.replace("e2 = some(where (p.eft == allow)) && !some(where (p.eft == deny))\n", "")
    )
    with pytest.raises(PolicyError, match="`policy_effect` has no `e2`"):
        load_policy(copied)


def test_each_policy_file_is_read_once(copied: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks, digest and casbin see one read of each file: no window for a swap."""
    import dissemination.policy

    reads: list[str] = []
    original = dissemination.policy.read_text  # type: ignore[attr-defined]  # its import

    def counting(path: Path) -> str:
        if path.parent == copied:
            reads.append(path.name)
        return original(path)

    monkeypatch.setattr(dissemination.policy, "read_text", counting)
    policy = load_policy(copied)
    assert sorted(reads) == ["model.conf", "policy.csv", "profile.yaml"]
    assert policy.digest == load_policy(DEFAULT_POLICY_DIR).digest
    assert decide(AGENCY_SC, ITEM, now=NOW, policy=policy).view is View.SANITISED


def test_a_variant_policy_has_its_own_digest_and_fast_path() -> None:
    from dissemination.policy import ProfileSettings

    default = load_policy()
    variant = default.with_profile(settings=ProfileSettings(require_signed_labels=True))
    assert variant.digest != default.digest
    assert variant.compiled is not default.compiled
    assert variant.rows == default.rows
    decision = decide(AGENCY_SC, ITEM, now=NOW, policy=variant, label_check=lambda _item: False)
    assert decision.view is View.NONE  # an unsigned label fails the check
    assert decision.policy == variant.digest
    assert decide(AGENCY_SC, ITEM, now=NOW, policy=default).view is View.SANITISED
