"""Policy files fail closed on every edit (issue 11, items 1, 3 and 4).

- the casbin model is the library's: a `model.conf` whose request, policy,
  effect or matcher sections differ (after whitespace and comments) is refused
  with file and line naming the section;
- duplicate keys anywhere in `profile.yaml`, and vocabulary terms that differ
  only in case, are refused with file and line; lint reports them with the
  loader's own checks;
- an error inside the engine while deciding gives `none` with reason
  `engine.error`, logged without content.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from dissemination import PolicyError, View, decide, load_policy, parse_item, parse_principal
from dissemination.compiled import RowTable
from dissemination.engine import EngineFailure
from dissemination.policy import DEFAULT_POLICY_DIR, Policy
from dissemination.tooling.lint import lint_policy
from tests.conftest import NOW
from tests.oracle import decide_reference
from tests.strategies import item_doc, reader_doc

READER = parse_principal(reader_doc())
ITEM = parse_item(
    item_doc(
        portions=[
            {"id": "p1", "category": "tearline", "text": "Stop and examine the container."},
            {"id": "p2", "category": "narrative", "text": "The narrative SECRETWORD."},
        ]
    )
)


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    return target


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_bytes().decode("utf-8")
    assert old in text, old
    path.write_bytes(text.replace(old, new, 1).encode("utf-8"))


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if needle in line)


# -- item 1: one model --------------------------------------------------------------------

DENY_BRANCH = ' || (p.eft == "deny" && view_above(r.view, p.view))'
MATCHER_EDITS = {
    "deny branch deleted": (DENY_BRANCH, "", "m = ", "matchers"),
    "typo in a field": ("holds(r.facts, p.when)", "holds(r.facts, p.whenx)", "m = ", "matchers"),
    "truncated": (DENY_BRANCH + ")", "", "m = ", "matchers"),
    "swapped request fields": ("r = facts, view", "r = view, facts", "r = ", "request_definition"),
    "policy fields reordered": (
        "p = rule, when, view, obligation, eft",
        "p = rule, view, when, obligation, eft",
        "p = ",
        "policy_definition",
    ),
    "content matcher loosened": (
        "m2 = r2.view == p2.view && holds(r2.facts, p2.when)",
        "m2 = holds(r2.facts, p2.when)",
        "m2 = ",
        "matchers",
    ),
    "extra matcher key": ("[matchers]\n", "[matchers]\nm3 = true\n", "m3 = ", "matchers"),
    "duplicate matcher key": ("[matchers]\n", "[matchers]\nm = true\n", "m = true", "matchers"),
}


@pytest.mark.parametrize("edit", list(MATCHER_EDITS))
def test_a_model_that_is_not_the_librarys_is_refused(copied: Path, edit: str) -> None:
    old, new, needle, section = MATCHER_EDITS[edit]
    model = copied / "model.conf"
    _replace(model, old, new)
    with pytest.raises(PolicyError) as caught:
        load_policy(copied)
    message = str(caught.value)
    assert message.startswith(f"{model}:{_line_of(model, needle)}: "), message
    assert f"`{section}`" in message


def test_a_missing_section_is_refused(copied: Path) -> None:
    model = copied / "model.conf"
    text = model.read_text(encoding="utf-8")
    model.write_text(text[: text.index("[matchers]")], encoding="utf-8")
    with pytest.raises(PolicyError, match="`matchers`") as caught:
        load_policy(copied)
    assert str(caught.value).startswith(f"{model}:")


def test_an_extra_section_is_refused(copied: Path) -> None:
    model = copied / "model.conf"
    model.write_text(model.read_text() + "\n[role_definition]\ng = _, _\n")
    with pytest.raises(PolicyError, match="`role_definition`") as caught:
        load_policy(copied)
    assert str(caught.value).startswith(f"{model}:{_line_of(model, '[role_definition]')}: ")


def test_whitespace_and_comments_do_not_matter(copied: Path) -> None:
    model = copied / "model.conf"
    _replace(model, "r = facts, view", "# the request\n   r   =   facts,view   ")
    _replace(model, "m2 = r2.view == p2.view", "m2=r2.view==p2.view  ")
    _replace(model, "[matchers]", "  [ matchers ]\n\n; another comment")
    policy = load_policy(copied)
    assert decide(READER, ITEM, now=NOW, policy=policy).view is View.FULL


def test_the_default_model_is_the_librarys() -> None:
    load_policy(DEFAULT_POLICY_DIR)
    assert lint_policy(DEFAULT_POLICY_DIR) == []


def test_lint_reports_a_changed_matcher(copied: Path) -> None:
    model = copied / "model.conf"
    _replace(model, DENY_BRANCH, "")
    findings = [finding for finding in lint_policy(copied) if finding.severity == "error"]
    assert [(finding.path, finding.line) for finding in findings] == [
        (str(model), _line_of(model, "m = "))
    ]
    assert "`matchers`" in findings[0].message


# -- item 4: strict profile.yaml ----------------------------------------------------------

DUPLICATES = {
    "classification": ("    SECRET: SC\n", "    SECRET: SC\n    SECRET: BPSS\n", "SECRET: BPSS"),
    "setting": (
        "  require_signed_labels: false\n",
        "  require_signed_labels: true\n  require_signed_labels: false\n",
        "require_signed_labels: false",
    ),
    "top level": ("name: default\n", "name: default\nname: other\n", "name: other"),
    "rule words": (
        "  cap.agency: agency staff see at most a sanitised view\n",
        "  cap.agency: agency staff see at most a sanitised view\n  cap.agency: other words\n",
        "cap.agency: other words",
    ),
}


@pytest.mark.parametrize("case", list(DUPLICATES))
def test_duplicate_keys_in_the_profile_are_refused(copied: Path, case: str) -> None:
    old, new, needle = DUPLICATES[case]
    profile = copied / "profile.yaml"
    _replace(profile, old, new)
    with pytest.raises(PolicyError, match="duplicate key") as caught:
        load_policy(copied)
    assert str(caught.value).startswith(f"{profile}:{_line_of(profile, needle)}: ")
    findings = [finding for finding in lint_policy(copied) if finding.severity == "error"]
    assert [(finding.path, finding.line) for finding in findings] == [
        (str(profile), _line_of(profile, needle))
    ]


CASE_VARIANTS = {
    "classification": ("    SECRET: SC\n", "    secret: BPSS\n    SECRET: SC\n", "SECRET: SC"),
    "employment": ("[crown-servant, agency,", "[crown-servant, agency, Agency,", "employment:"),
    "handling kind": ("    - embargo\n", "    - embargo\n    - Embargo\n", "- Embargo"),
    "category": ("[tearline, narrative,", "[tearline, Tearline, narrative,", "portion_categories"),
    "subject type": ("[person, vehicle,", "[person, vehicle, VEHICLE,", "subject_types"),
    "vetting level": ("[BPSS, CTC, SC,", "[BPSS, CTC, SC, sc,", "vetting_levels"),
}


@pytest.mark.parametrize("case", list(CASE_VARIANTS))
def test_terms_differing_only_in_case_are_refused(copied: Path, case: str) -> None:
    old, new, needle = CASE_VARIANTS[case]
    profile = copied / "profile.yaml"
    _replace(profile, old, new)
    with pytest.raises(PolicyError, match=r"only in case|repeat") as caught:
        load_policy(copied)
    assert str(caught.value).startswith(f"{profile}:{_line_of(profile, needle)}: ")
    findings = [finding for finding in lint_policy(copied) if finding.code == "vocabulary"]
    assert findings
    assert findings[0].line == _line_of(profile, needle)


def test_lint_reports_every_vocabulary_problem(copied: Path) -> None:
    profile = copied / "profile.yaml"
    _replace(profile, "TOP SECRET: DV", "TOP SECRET: STRAP")
    _replace(profile, "[crown-servant, agency,", "[crown-servant, agency, AGENCY,")
    _replace(profile, "baseline_vetting: BPSS", "baseline_vetting: XX")
    findings = [finding for finding in lint_policy(copied) if finding.code == "vocabulary"]
    assert sorted(finding.line for finding in findings if finding.line) == sorted(
        [
            _line_of(profile, "TOP SECRET: STRAP"),
            _line_of(profile, "employment:"),
            _line_of(profile, "baseline_vetting: XX"),
        ]
    )


def test_lint_has_no_vocabulary_checks_of_its_own() -> None:
    from dissemination.tooling import lint

    assert not hasattr(lint, "_vocabulary")


# -- item 3: an error while deciding fails closed ----------------------------------------------


def _boom(*_args: object, **_kwargs: object) -> bool:
    raise RuntimeError("SECRETWORD in the engine's message")


@pytest.mark.parametrize("method", ["decide", "shows", "caps_added"])
def test_an_evaluator_error_gives_none_and_is_logged_without_content(
    method: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    item = ITEM
    if method == "caps_added":  # only asked for a marking with handling
        marked = {"marking": {"handling": [{"kind": "need_to_know", "groups": ["OP-X"]}]}}
        item = parse_item(
            item_doc(portions=[{"id": "p1", "category": "tearline", "text": "x", **marked}])
        )
    policy = Policy(DEFAULT_POLICY_DIR)
    assert decide(READER, item, now=NOW, policy=Policy(DEFAULT_POLICY_DIR)).view > View.NONE
    monkeypatch.setattr(RowTable, method, _boom)
    with caplog.at_level(logging.DEBUG):
        decision = decide(READER, item, now=NOW, policy=policy)
    assert decision.view is View.NONE
    assert [reason.rule for reason in decision.reasons] == ["engine.error"]
    assert decision.portions == ()
    assert decision.policy == policy.digest
    assert caplog.records
    assert all("SECRETWORD" not in record.getMessage() for record in caplog.records)
    assert all(record.exc_info is None for record in caplog.records)


def test_a_casbin_error_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """casbin, the oracle, fails closed too: the reference decision is `none`."""
    policy = Policy(DEFAULT_POLICY_DIR)
    monkeypatch.setattr(policy.engine._enforcer, "enforce", _boom)
    with pytest.raises(EngineFailure) as caught:
        policy.engine.decide_view_uncached(frozenset({"always"}))
    assert "SECRETWORD" not in str(caught.value)
    decision = decide_reference(READER, ITEM, now=NOW, policy=policy)
    assert decision.view is View.NONE
    assert [reason.rule for reason in decision.reasons] == ["engine.error"]


def test_an_engine_error_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = Policy(DEFAULT_POLICY_DIR)
    with monkeypatch.context() as patch:
        patch.setattr(RowTable, "decide", _boom)
        assert decide(READER, ITEM, now=NOW, policy=policy).view is View.NONE
    assert decide(READER, ITEM, now=NOW, policy=policy).view is View.FULL


def test_decide_does_not_ask_casbin(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new set of facts is answered by the derived evaluator (issue 14: no enforce calls)."""
    expected = decide(READER, ITEM, now=NOW, policy=Policy(DEFAULT_POLICY_DIR))
    policy = Policy(DEFAULT_POLICY_DIR)
    monkeypatch.setattr(policy.engine._enforcer, "enforce", _boom)
    decision = decide(READER, ITEM, now=NOW, policy=policy)
    assert decision.view is View.FULL
    assert decision.portions == expected.portions
    assert decision.reasons == expected.reasons
