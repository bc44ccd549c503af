"""Policy that travels: signed bundles, verified before use, swapped whole, last good kept."""

from __future__ import annotations

import copy
import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from dissemination.cli import main
from dissemination.integrity import generate_key, load_trust_store
from dissemination.integrity.bundle import BundleError, load_bundle_policy, verify_bundle
from dissemination.service.policy_source import BundleFileWatcher, activate_bundle_file
from dissemination.service.state import PolicySlot
from tests.service.bundles import bundle, profiles, resign, security_key, write_bundle
from tests.service.processes import request, serving
from tests.service.support import envelope, make_app


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Any]:
    first, second = profiles(tmp_path)
    key, key_file, trust = security_key(tmp_path)
    return {
        "a": first,
        "b": second,
        "key": key,
        "key_file": key_file,
        "trust": trust,
        "store": load_trust_store(trust),
        "root": tmp_path,
    }


def _tampered(setup: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every way a bundle can fail to verify (or to load), by name."""
    good = bundle(setup["b"], setup["key"], "r2")
    edited = copy.deepcopy(good)
    edited["files"]["policy.csv"] += "\np, cap.everyone, always, none, -, deny\n"
    extra = copy.deepcopy(good)
    extra["files"]["extra.csv"] = "x"
    relabelled = copy.deepcopy(good)
    relabelled["manifest"]["revision"] = "r3"
    unsigned = copy.deepcopy(good)
    del unsigned["signature"]
    stranger = resign(good, generate_key())
    unloadable = copy.deepcopy(good)
    unloadable["files"]["policy.csv"] = "p, broken\n"
    return {
        "edited file": edited,
        "extra file": extra,
        "edited manifest": relabelled,
        "unsigned": unsigned,
        "unknown key": stranger,
        "signed but unloadable": resign(unloadable, setup["key"]),
        "not a bundle": {"format": "something else"},
    }


def test_a_bundle_verifies_and_loads_the_profile_it_was_made_of(setup: dict[str, Any]) -> None:
    document = bundle(setup["b"], setup["key"], "r2")
    verified = verify_bundle(json.loads(json.dumps(document)), setup["store"])
    assert verified.revision == "r2"
    policy = load_bundle_policy(verified)
    assert any(row.rule == "cap.agency" and row.view.label == "pointer" for row in policy.rows)


def test_every_tampering_is_refused(setup: dict[str, Any]) -> None:
    def activate(document: dict[str, Any], name: str) -> None:
        load_bundle_policy(verify_bundle(document, setup["store"], source=name), source=name)

    for name, document in _tampered(setup).items():
        with pytest.raises(BundleError):
            activate(document, name)


def test_policy_bundle_and_verify_commands(setup: dict[str, Any]) -> None:
    out = setup["root"] / "bundle.json"
    runner = CliRunner()
    made = runner.invoke(
        main,
        [
            "policy",
            "bundle",
            str(setup["b"]),
            "--key",
            str(setup["key_file"]),
            "--out",
            str(out),
            "--revision",
            "2026-12-01.1",
        ],
    )
    assert made.exit_code == 0, made.output
    assert "2026-12-01.1" in made.output
    checked = runner.invoke(main, ["policy", "verify", str(out), "--trust", str(setup["trust"])])
    assert checked.exit_code == 0, checked.output
    assert "revision `2026-12-01.1`" in checked.output
    for name, document in _tampered(setup).items():
        write_bundle(out, document)
        refused = runner.invoke(
            main, ["policy", "verify", str(out), "--trust", str(setup["trust"])]
        )
        assert refused.exit_code == 1, name
        assert refused.output.startswith("error: ")
        assert len(refused.output.strip().splitlines()) == 1


def test_a_bad_bundle_is_never_activated_and_the_last_good_one_serves(
    setup: dict[str, Any],
) -> None:
    path = setup["root"] / "bundle.json"
    write_bundle(path, bundle(setup["a"], setup["key"], "r1"))
    slot = PolicySlot()
    assert activate_bundle_file(slot, path, setup["store"])
    client = TestClient(make_app(slot=slot))
    for name, document in _tampered(setup).items():
        write_bundle(path, document)
        assert not activate_bundle_file(slot, path, setup["store"]), name
        ready = client.get("/readyz").json()
        assert ready["policy"]["revision"] == "r1"
        assert "kept revision `r1`" in ready["problem"]
        answer = client.post("/access/v1/evaluation", json=envelope("agency", "container"))
        assert answer.json()["context"]["view"] == "gist"
        assert answer.json()["context"]["policy"]["revision"] == "r1"


def test_an_unsigned_bundle_is_not_activated_at_start(setup: dict[str, Any]) -> None:
    path = setup["root"] / "bundle.json"
    write_bundle(path, _tampered(setup)["unsigned"])
    result = CliRunner().invoke(
        main, ["serve", "--policy-bundle", str(path), "--policy-trust", str(setup["trust"])]
    )
    assert result.exit_code == 2
    assert "not signed" in result.output


def _wait_for(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_changed_file_is_swapped_in_whole(setup: dict[str, Any]) -> None:
    path = setup["root"] / "bundle.json"
    write_bundle(path, bundle(setup["a"], setup["key"], "r1"))
    slot = PolicySlot()
    assert activate_bundle_file(slot, path, setup["store"])
    watcher = BundleFileWatcher(slot, path, setup["store"], interval=0.02)
    watcher.start()
    try:
        client = TestClient(make_app(slot=slot))
        write_bundle(path, bundle(setup["b"], setup["key"], "r2"))
        _wait_for(lambda: client.get("/readyz").json()["policy"]["revision"] == "r2")
        context = client.post("/access/v1/evaluation", json=envelope("agency", "container")).json()[
            "context"
        ]
        assert (context["view"], context["policy"]["revision"]) == ("pointer", "r2")
        write_bundle(path, _tampered(setup)["edited file"])
        _wait_for(lambda: client.get("/readyz").json()["problem"] is not None)
        assert client.get("/readyz").json()["policy"]["revision"] == "r2"
    finally:
        watcher.stop()


def test_reload_rereads_an_unchanged_looking_file(setup: dict[str, Any]) -> None:
    path = setup["root"] / "bundle.json"
    write_bundle(path, bundle(setup["a"], setup["key"], "r1"))
    slot = PolicySlot()
    assert activate_bundle_file(slot, path, setup["store"])
    watcher = BundleFileWatcher(slot, path, setup["store"], interval=3600)
    watcher.start()
    try:
        # The watcher would not look for an hour: only SIGHUP (reload) makes it.
        with path.open("r+") as handle:
            handle.truncate(0)
            handle.write(json.dumps(bundle(setup["b"], setup["key"], "r2")))
        watcher.reload()
        _wait_for(lambda: slot.active is not None and slot.active.revision == "r2")
    finally:
        watcher.stop()


def test_serve_policy_bundle_swaps_on_change_and_on_sighup(setup: dict[str, Any]) -> None:
    path = setup["root"] / "bundle.json"
    write_bundle(path, bundle(setup["a"], setup["key"], "r1"))
    args = ("--policy-bundle", str(path), "--policy-trust", str(setup["trust"]))
    log = setup["root"] / "serve.log"
    with serving(*args, log=log) as (base, process):

        def revision() -> str:
            return str(json.loads(request(base + "/readyz")[2])["policy"]["revision"])

        assert revision() == "r1"
        write_bundle(path, bundle(setup["b"], setup["key"], "r2"))
        _wait_for(lambda: revision() == "r2")
        write_bundle(path, _tampered(setup)["unknown key"])
        process.send_signal(signal.SIGHUP)
        _wait_for(lambda: json.loads(request(base + "/readyz")[2])["problem"] is not None)
        assert revision() == "r2"
        status, _h, raw = request(base + "/access/v1/evaluation", envelope("agency", "container"))
        assert status == 200
        assert json.loads(raw)["context"]["policy"]["revision"] == "r2"
    said = log.read_text()
    assert "policy revision `r2`" in said
    assert "policy not activated" in said
    assert "kept revision `r2`" in said
