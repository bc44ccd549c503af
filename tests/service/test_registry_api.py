"""The registry over HTTP: register, lookup, and AuthZEN resource search, paged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from dissemination.registry import Registry
from tests.registry.support import KEYS
from tests.service.support import WHEN, item_doc, make_app, reader_doc

NAMES = ["container", "vehicle", "vessel", "person", "embargo", "recipients", "uk-eyes"]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    registry = Registry(f"sqlite:///{tmp_path / 'registry.db'}", keys=KEYS, upgrade=True)
    with TestClient(make_app(registry=registry)) as test_client:
        for name in NAMES:
            response = test_client.post(
                "/dissemination/v1/registry/register",
                json={"resource": {"properties": item_doc(name)}, "context": WHEN},
            )
            assert response.status_code == 200, response.text
        yield test_client
    registry.close()


def _ask(reader: str, identifier: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "subject": {"properties": reader_doc(reader)},
        "context": {**WHEN, "identifier": identifier},
        **extra,
    }


def _subject(name: str, index: int = 0) -> dict[str, str]:
    subject = item_doc(name)["subjects"][index]
    if subject["type"] == "person":
        return {
            "type": "person",
            "value": subject["name"],
            "date_of_birth": subject["date_of_birth"],
        }
    return {key: subject[key] for key in ("type", "value", "country") if key in subject}


def test_lookup_answers_through_the_policy(client: TestClient) -> None:
    officer = client.post(
        "/dissemination/v1/registry/lookup", json=_ask("officer", _subject("container"))
    ).json()
    assert [linked["item"] for linked in officer["items"]] == [item_doc("container")["id"]]
    assert officer["context"]["policy"]["revision"] == "local"


def test_a_hidden_item_is_indistinguishable_from_none(client: TestClient) -> None:
    hidden = _subject("recipients")  # liaison-nld-07 sees HUM-2026-000128 at none
    assert hidden["type"] == "email"
    unknown = {"type": "email", "value": "nobody@example.org"}
    headers = {"X-Request-ID": "same"}
    answers = []
    for identifier in (hidden, unknown):
        search = client.post(
            "/access/v1/search/resource", json=_ask("liaison", identifier), headers=headers
        )
        assert search.status_code == 200, search.text
        answers.append(search.json())
    assert answers[0] == answers[1]
    assert answers[0]["results"] == []


def test_search_resource_pages(client: TestClient) -> None:
    identifier = _subject("container")
    first = client.post(
        "/access/v1/search/resource",
        json=_ask("analyst", identifier, page={"limit": 1}),
    ).json()
    ids = [result["id"] for result in first["results"]]
    token = first["page"]["next_token"]
    while token:
        page = client.post(
            "/access/v1/search/resource",
            json=_ask("analyst", identifier, page={"limit": 1, "token": token}),
        ).json()
        ids += [result["id"] for result in page["results"]]
        token = page["page"]["next_token"]
    whole = client.post("/dissemination/v1/registry/lookup", json=_ask("analyst", identifier))
    assert ids == [linked["item"] for linked in whole.json()["items"]]
    assert ids


def test_a_bad_identifier_is_400_without_its_value(client: TestClient) -> None:
    response = client.post(
        "/dissemination/v1/registry/lookup",
        json=_ask("officer", {"type": "container", "value": "NOT-A-CONTAINER-Q9"}),
    )
    assert response.status_code == 400
    assert "NOT-A-CONTAINER-Q9" not in response.text


def test_an_item_without_subjects_registers(client: TestClient) -> None:
    document = item_doc("container")
    document["id"] = "HUM-2026-NOSUBJECT"
    document["subjects"] = []
    response = client.post(
        "/dissemination/v1/registry/register",
        json={"resource": {"properties": document}, "context": WHEN},
    )
    assert response.status_code != 400, response.text  # the document is valid: not why it fails
    assert response.status_code == 200
    assert response.json()["registrations"] == []
