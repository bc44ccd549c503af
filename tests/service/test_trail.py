"""Every disclosure is recorded, with its decision_id, before the answer is sent."""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from dissemination.audit import DatabaseSink, open_trail
from dissemination.audit.records import Disclosure
from dissemination.integrity import generate_key
from dissemination.integrity.keys import private_key_pem
from tests.service.processes import request, serving
from tests.service.support import ITEMS, READERS, WHEN, envelope, item_doc, make_app, reader_doc


def _records(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in path.read_text().splitlines()
        if line.strip() and "seq" in json.loads(line) and "head" not in json.loads(line)
    ]


def test_trail_records_match_responses_one_to_one_under_concurrency(tmp_path: Path) -> None:
    trail_path = tmp_path / "trail.jsonl"
    key_path = tmp_path / "trail.key"
    key = generate_key()
    key_path.write_bytes(private_key_pem(key))
    key_path.chmod(0o600)
    pairs = [(reader, item) for reader in READERS for item in ITEMS]
    with serving("--audit", str(trail_path), "--audit-key", str(key_path)) as (base, _process):

        def ask(index: int) -> tuple[str, dict[str, Any]]:
            reader, item = pairs[index % len(pairs)]
            request_id = f"r{index}"
            if index % 3 == 0:
                body = {
                    **envelope(reader, item),
                    "evaluations": [{}, {"action": {"name": "know_of"}}],
                }
                status, _h, raw = request(
                    base + "/access/v1/evaluations", body, headers={"X-Request-ID": request_id}
                )
            else:
                status, _h, raw = request(
                    base + "/access/v1/evaluation",
                    envelope(reader, item),
                    headers={"X-Request-ID": request_id},
                )
            assert status == 200
            return item, json.loads(raw)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(ask, range(len(pairs) * 2)))

    disclosed: dict[str, tuple[str, str]] = {}
    for item, answer in answers:
        contexts = [e["context"] for e in answer.get("evaluations", [answer])]
        for context in contexts:
            if context["view"] != "none":
                disclosed[context["decision_id"]] = (item_doc(item)["id"], context["view"])
    records = _records(trail_path)
    by_id = {record["decision_id"]: record for record in records}
    assert len(by_id) == len(records)  # no decision recorded twice
    assert {k: (r["item"], r["view"]) for k, r in by_id.items()} == disclosed
    with open_trail(trail_path) as trail:
        report = trail.verify(public_key=key.public_key())
    assert report.ok
    assert report.records == len(disclosed)


def test_view_and_filter_record_before_answering(tmp_path: Path) -> None:
    trail = open_trail(tmp_path / "trail.jsonl")
    client = TestClient(make_app(trail=trail))
    client.post(
        "/dissemination/v1/view",
        json=envelope("agency", "container"),
        headers={"X-Request-ID": "v"},
    )
    lines = [{"subject": {"properties": reader_doc("liaison")}, "context": WHEN}]
    lines += [item_doc("container"), item_doc("recipients"), item_doc("vehicle")]
    body = "\n".join(json.dumps(line) for line in lines)
    out = client.post(
        "/dissemination/v1/filter", content=body, headers={"X-Request-ID": "f"}
    ).text.splitlines()
    records = _records(tmp_path / "trail.jsonl")
    assert [r["decision_id"] for r in records] == ["v", "f:2", "f:4"]
    assert [json.loads(line)["decision_id"] for line in out] == ["f:2", "f:4"]
    trail.close()


def test_a_trail_that_cannot_be_written_answers_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "trail.jsonl"
    blocked.mkdir()  # a directory: every append fails
    client = TestClient(make_app(trail=open_trail(blocked)))
    response = client.post("/access/v1/evaluation", json=envelope("officer", "container"))
    assert response.status_code == 503
    assert response.json()["error"] == "trail_unavailable"
    assert "HUM-2026" not in response.text
    # A decision at none discloses nothing and is answered without the trail.
    nothing = client.post("/access/v1/evaluation", json=envelope("liaison", "recipients"))
    assert nothing.status_code == 200


def test_a_database_trail_made_before_decision_ids_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "trail.db"
    url = f"sqlite:///{path}"
    old = DatabaseSink(url)
    old.append(Disclosure("2026-11-27T10:00:00.000000Z", "r", "i", "full", (), (), (), "p"))
    old.close()
    with sqlite3.connect(path) as connection:  # as a trail written before the column existed
        connection.execute("ALTER TABLE dissemination_trail_records DROP COLUMN decision_id")
    sink = DatabaseSink(url)
    sink.append(
        Disclosure("2026-11-27T10:00:01.000000Z", "r", "i", "gist", (), (), (), "p", "id-2")
    )
    with open_trail(url) as trail:
        assert trail.verify().ok
        assert [r.decision_id for r in trail.disclosures("i")] == [None, "id-2"]
    sink.close()
