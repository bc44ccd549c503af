"""Several nodes, one policy: `policy publish` to PostgreSQL, nodes swap on NOTIFY."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from dissemination.cli import main
from dissemination.service.policy_source import TABLE, libpq_url
from tests.service.bundles import bundle, profiles, security_key, write_bundle
from tests.service.processes import request, serving
from tests.service.support import envelope

pytestmark = pytest.mark.postgres

EXPECTED = {"r1": "gist", "r2": "pointer"}
"""What agency-0042 gets of HUM-2026-000123 under each revision (r2 caps agency at pointer)."""


@pytest.fixture
def url() -> str:
    found = os.environ.get("DISSEMINATION_TEST_POSTGRES_URL")
    if not found:
        pytest.skip("set DISSEMINATION_TEST_POSTGRES_URL to test policy publication")
    with psycopg.connect(libpq_url(found), autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
    return found


def _publish(path: Path, url: str, trust: Path) -> None:
    result = CliRunner().invoke(
        main, ["policy", "publish", str(path), "--db", url, "--trust", str(trust)]
    )
    assert result.exit_code == 0, result.output


def _revision(base: str) -> str | None:
    status, _headers, raw = request(base + "/readyz", timeout=2)
    policy = json.loads(raw)["policy"]
    return policy["revision"] if status == 200 and policy else None


def test_three_nodes_switch_together_and_every_answer_matches_its_revision(
    tmp_path: Path, url: str
) -> None:
    first, second = profiles(tmp_path)
    key, _key_file, trust = security_key(tmp_path)
    one, two = tmp_path / "r1.json", tmp_path / "r2.json"
    write_bundle(one, bundle(first, key, "r1"))
    write_bundle(two, bundle(second, key, "r2"))
    _publish(one, url, trust)
    args = ("--policy-db", url, "--policy-trust", str(trust))
    with (
        serving(*args) as (node_a, _a),
        serving(*args) as (node_b, _b),
        serving(*args) as (node_c, _c),
    ):
        nodes = [node_a, node_b, node_c]
        deadline = time.monotonic() + 20
        while any(_revision(node) != "r1" for node in nodes):
            assert time.monotonic() < deadline
            time.sleep(0.05)

        seen: list[tuple[str, str]] = []
        stop = threading.Event()

        def ask(base: str) -> None:
            while not stop.is_set():
                status, _h, raw = request(
                    base + "/access/v1/evaluation", envelope("agency", "container")
                )
                assert status == 200
                context: dict[str, Any] = json.loads(raw)["context"]
                seen.append((context["policy"]["revision"], context["view"]))

        askers = [threading.Thread(target=ask, args=(node,)) for node in nodes]
        for asker in askers:
            asker.start()
        time.sleep(0.2)
        published = time.monotonic()
        _publish(two, url, trust)
        switched: dict[str, float] = {}
        while len(switched) < len(nodes):
            for node in nodes:
                if node not in switched and _revision(node) == "r2":
                    switched[node] = time.monotonic() - published
            assert time.monotonic() - published < 15, "a node did not switch"
            time.sleep(0.01)
        time.sleep(0.2)
        stop.set()
        for asker in askers:
            asker.join()

    print(f"multi-node switch: {max(switched.values()):.3f} s after publish (slowest of 3)")
    assert {revision for revision, _view in seen} == {"r1", "r2"}
    # No answer names a revision whose decision it does not carry.
    assert all(EXPECTED[revision] == view for revision, view in seen)


def test_publish_refuses_a_bundle_the_nodes_would_not_trust(tmp_path: Path, url: str) -> None:
    first, _second = profiles(tmp_path)
    key, _key_file, _trust = security_key(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _other_key, _other_file, other_trust = security_key(other)
    path = tmp_path / "r1.json"
    write_bundle(path, bundle(first, key, "r1"))
    result = CliRunner().invoke(
        main, ["policy", "publish", str(path), "--db", url, "--trust", str(other_trust)]
    )
    assert result.exit_code == 2
    assert "trust store does not hold" in result.output
