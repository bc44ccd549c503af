"""The AuthZEN and dissemination endpoints, through Starlette's TestClient."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from dissemination import decide, default_policy, load_item, load_principal, render
from tests.service.support import (
    HUMBER,
    ITEMS,
    NOW,
    READERS,
    WHEN,
    envelope,
    item_doc,
    make_app,
    reader_doc,
)


def _expected_view(reader: str, item: str) -> str:
    decision = decide(
        load_principal(HUMBER / "readers" / READERS[reader]),
        load_item(HUMBER / "items" / ITEMS[item]),
        now=NOW,
        policy=default_policy(),
    )
    return decision.view.label


@pytest.mark.parametrize(
    ("reader", "item", "action", "allowed"),
    [
        ("agency", "container", "view:gist", True),
        ("agency", "container", "view:sanitised", False),
        ("agency", "container", "know_of", True),
        ("officer", "container", "view:full", True),
        ("liaison", "recipients", "know_of", False),
        ("hmrc", "vehicle", "view:pointer", True),
        ("hmrc", "vehicle", "view:gist", False),
    ],
)
def test_evaluation_decides_by_the_view(
    client: TestClient, reader: str, item: str, action: str, allowed: bool
) -> None:
    response = client.post("/access/v1/evaluation", json=envelope(reader, item, action))
    assert response.status_code == 200  # a denial is an answer too
    body = response.json()
    assert body["decision"] is allowed
    assert body["context"]["view"] == _expected_view(reader, item)
    assert body["context"]["policy"] == {"digest": default_policy().digest, "revision": "local"}


def test_context_carries_reasons_conditions_and_obligations(client: TestClient) -> None:
    body = client.post("/access/v1/evaluation", json=envelope("agency", "container")).json()
    context = body["context"]
    decision = decide(
        load_principal(HUMBER / "readers" / READERS["agency"]),
        load_item(HUMBER / "items" / ITEMS["container"]),
        now=NOW,
    )
    assert [reason["rule"] for reason in context["reasons"]] == list(decision.rules)
    assert (
        context["conditions"]
        == render(load_item(HUMBER / "items" / ITEMS["container"]), decision)["conditions"]
    )
    withheld = next(o for o in context["obligations"] if o["id"] == "withhold_portions")
    all_portions = [portion["id"] for portion in item_doc("container")["portions"]]
    assert withheld["portions"] == [p for p in all_portions if p not in decision.portions]


def test_request_id_is_echoed_and_is_the_decision_id(client: TestClient) -> None:
    response = client.post(
        "/access/v1/evaluation",
        json=envelope("agency", "container"),
        headers={"X-Request-ID": "req-42"},
    )
    assert response.headers["x-request-id"] == "req-42"
    assert response.json()["context"]["decision_id"] == "req-42"
    fresh = client.post("/access/v1/evaluation", json=envelope("agency", "container"))
    assert fresh.headers["x-request-id"] == fresh.json()["context"]["decision_id"]
    assert fresh.headers["x-request-id"] != "req-42"


def test_unknown_envelope_fields_are_ignored(client: TestClient) -> None:
    plain = envelope("agency", "container")
    extended = json.loads(json.dumps(plain))
    extended["future"] = {"anything": 1}
    extended["subject"]["extra"] = "x"
    extended["resource"]["extra"] = ["y"]
    extended["action"]["properties"] = {"method": "GET"}
    extended["context"]["ip"] = "127.0.0.1"
    headers = {"X-Request-ID": "same"}
    first = client.post("/access/v1/evaluation", json=plain, headers=headers)
    second = client.post("/access/v1/evaluation", json=extended, headers=headers)
    assert second.status_code == 200
    assert second.json() == first.json()


CONTENT = "Zanzibar-Operation-Nightjar"


@pytest.mark.parametrize(
    ("part", "mutate", "field"),
    [
        ("subject", lambda d: d.update(vetting={"level": CONTENT}), "subject.properties.vetting"),
        ("subject", lambda d: d.update(employment=CONTENT), "subject.properties.employment"),
        # An unknown key may itself be content: named by its place only.
        ("subject", lambda d: d.update(nickname=CONTENT), "subject.properties."),
        ("subject", lambda d: d.pop("organisation"), "subject.properties.organisation"),
        (
            "resource",
            lambda d: d.update(classification=CONTENT),
            "resource.properties.classification",
        ),
        (
            "resource",
            lambda d: d["portions"][0].update(category=CONTENT),
            "resource.properties.portions.0",
        ),
        (
            "resource",
            lambda d: d.update(handling=[{"kind": CONTENT}]),
            "resource.properties.handling.0",
        ),
        ("resource", lambda d: d.update(created=CONTENT), "resource.properties.created"),
    ],
)
def test_a_bad_document_is_400_naming_the_field_never_the_value(
    client: TestClient, part: str, mutate: Any, field: str
) -> None:
    body = envelope("agency", "container")
    mutate(body[part]["properties"])
    response = client.post("/access/v1/evaluation", json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "bad_request"
    assert f"`{field}" in error["message"]
    assert CONTENT not in response.text
    assert "\n" not in response.text


def test_malformed_envelopes_are_400_one_line(client: TestClient) -> None:
    for body in (b"not json", b"[1, 2]", b'{"subject": 1}'):
        response = client.post("/access/v1/evaluation", content=body)
        assert response.status_code == 400
        assert set(response.json()) == {"error", "message", "request_id"}
    unknown_action = envelope("agency", "container", "view:everything")
    response = client.post("/access/v1/evaluation", json=unknown_action)
    assert response.status_code == 400
    assert "`action.name`" in response.json()["message"]
    bad_time = envelope("agency", "container")
    bad_time["context"]["time"] = "yesterday"
    assert client.post("/access/v1/evaluation", json=bad_time).status_code == 400


def test_a_repeated_key_is_refused_as_in_files(client: TestClient) -> None:
    body = json.dumps(envelope("agency", "container"))
    # A second key silently replacing the first would change a label unseen:
    # refused, as loading refuses it in files.
    repeated = body.replace(
        '"classification":', '"classification": "OFFICIAL", "classification":', 1
    )
    assert repeated.count('"classification"') == body.count('"classification"') + 1
    response = client.post("/access/v1/evaluation", content=repeated)
    assert response.status_code == 400
    assert "repeats a key" in response.json()["message"]


def test_the_answer_at_none_is_the_same_for_every_item(client: TestClient) -> None:
    headers = {"X-Request-ID": "fixed"}
    answers = []
    for item in ("recipients", "uk-eyes"):
        assert _expected_view("liaison", item) == "none"
        for action in ("know_of", "view:full"):
            response = client.post(
                "/access/v1/evaluation", json=envelope("liaison", item, action), headers=headers
            )
            answers.append(response.content)
        view = client.post(
            "/dissemination/v1/view", json=envelope("liaison", item), headers=headers
        )
        answers.append(view.content)
        actions = client.post(
            "/access/v1/search/action", json=envelope("liaison", item), headers=headers
        )
        answers.append(actions.content)
    assert answers[0:4] == answers[4:8]
    assert b"HUM-2026" not in b"".join(answers)


def test_evaluations_take_defaults_and_keep_request_order(client: TestClient) -> None:
    base = envelope("agency", "container")
    body = {
        **base,
        "evaluations": [
            {"action": {"name": "view:full"}},
            {},
            {"resource": envelope("agency", "vehicle")["resource"]},
            {"subject": envelope("officer", "container")["subject"]},
        ],
    }
    response = client.post("/access/v1/evaluations", json=body, headers={"X-Request-ID": "b"})
    results = response.json()["evaluations"]
    assert [r["decision"] for r in results] == [False, True, False, True]
    assert [r["context"]["view"] for r in results] == ["gist", "gist", "pointer", "full"]
    assert [r["context"]["decision_id"] for r in results] == ["b:0", "b:1", "b:2", "b:3"]


@pytest.mark.parametrize(
    ("semantic", "expected"),
    [
        ("execute_all", [True, False, True, False]),
        ("deny_on_first_deny", [True, False]),
        ("permit_on_first_permit", [True]),
    ],
)
def test_evaluations_semantics(client: TestClient, semantic: str, expected: list[bool]) -> None:
    actions = ["view:gist", "view:full", "know_of", "view:sanitised"]
    body = {
        **envelope("agency", "container"),
        "options": {"evaluations_semantic": semantic},
        "evaluations": [{"action": {"name": name}} for name in actions],
    }
    results = client.post("/access/v1/evaluations", json=body).json()["evaluations"]
    assert [r["decision"] for r in results] == expected


def test_evaluations_refuse_an_unknown_semantic(client: TestClient) -> None:
    body = {
        **envelope("agency", "container"),
        "options": {"evaluations_semantic": "first_come"},
        "evaluations": [{}],
    }
    response = client.post("/access/v1/evaluations", json=body)
    assert response.status_code == 400
    assert "evaluations_semantic" in response.json()["message"]


def test_an_entry_names_its_place_when_bad(client: TestClient) -> None:
    body = {
        **envelope("agency", "container"),
        "evaluations": [{}, {"subject": {"properties": {**reader_doc("agency"), "vetting": 7}}}],
    }
    response = client.post("/access/v1/evaluations", json=body)
    assert response.status_code == 400
    assert "`evaluations.1.subject.properties.vetting`" in response.json()["message"]


def test_search_action_lists_the_views_the_reader_has(client: TestClient) -> None:
    body = client.post("/access/v1/search/action", json=envelope("agency", "container")).json()
    assert [r["name"] for r in body["results"]] == ["view:gist", "view:pointer", "know_of"]
    full = client.post("/access/v1/search/action", json=envelope("officer", "container")).json()
    assert len(full["results"]) == 5


def test_view_is_the_document_dissemination_view_prints(client: TestClient) -> None:
    response = client.post("/dissemination/v1/view", json=envelope("agency", "container"))
    document = response.json()
    item = load_item(HUMBER / "items" / ITEMS["container"])
    decision = decide(load_principal(HUMBER / "readers" / READERS["agency"]), item, now=NOW)
    expected = render(item, decision)
    assert {k: document[k] for k in expected} == json.loads(json.dumps(expected))
    assert document["revision"] == "local"
    text = client.post(
        "/dissemination/v1/view", json={**envelope("agency", "container"), "format": "text"}
    )
    assert text.headers["content-type"].startswith("text/plain")
    assert "HUM-2026-000123" in text.text


def test_filter_streams_views_and_leaves_no_trace_of_none(client: TestClient) -> None:
    reader = reader_doc("liaison")
    lines = [{"subject": {"properties": reader}, "context": WHEN}]
    names = ["container", "recipients", "vehicle", "uk-eyes"]
    lines += [item_doc(name) for name in names]
    body = "\n".join(json.dumps(line) for line in lines) + "\n"
    response = client.post("/dissemination/v1/filter", content=body)
    assert response.status_code == 200
    out = [json.loads(line) for line in response.text.splitlines()]
    shown = [name for name in names if _expected_view("liaison", name) != "none"]
    assert [doc["item"]["id"] for doc in out] == [item_doc(n)["id"] for n in shown]
    assert all(doc["view"] == "pointer" for doc in out)


def test_filter_ends_with_an_error_line_on_a_bad_item(client: TestClient) -> None:
    bad = item_doc("vehicle")
    bad["classification"] = CONTENT
    lines = [
        {"subject": {"properties": reader_doc("officer")}, "context": WHEN},
        item_doc("container"),
        bad,
        item_doc("vessel"),
    ]
    body = "\n".join(json.dumps(line) for line in lines)
    out = client.post("/dissemination/v1/filter", content=body).text.splitlines()
    assert len(out) == 2
    error = json.loads(out[1])
    assert error["error"] == "bad_request"
    assert "`line 3.classification`" in error["message"]
    assert CONTENT not in out[1]


def test_operations_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] is True
    assert ready["policy"]["revision"] == "local"
    config = client.get("/.well-known/authzen-configuration").json()
    assert config["access_evaluation_endpoint"].endswith("/access/v1/evaluation")
    assert config["access_evaluations_endpoint"].endswith("/access/v1/evaluations")
    client.post("/access/v1/evaluation", json=envelope("agency", "container"))
    client.post("/access/v1/evaluation", content=b"{")
    metrics = client.get("/metrics").text
    assert 'dissemination_decisions_total{view="gist"} 1.0' in metrics
    assert 'dissemination_errors_total{kind="bad_request"} 1.0' in metrics
    assert 'dissemination_request_seconds_count{endpoint="evaluation"} 2.0' in metrics
    missing = client.get("/no/such/endpoint")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def test_a_time_far_from_the_clock_is_refused_when_skew_is_bounded() -> None:
    client = TestClient(make_app(max_skew=dt.timedelta(minutes=5)))
    body = envelope("agency", "container")
    assert client.post("/access/v1/evaluation", json=body).status_code == 200  # NOW itself
    body["context"]["time"] = "2027-06-01T10:00:00Z"  # after the reader's vetting expired
    response = client.post("/access/v1/evaluation", json=body)
    assert response.status_code == 400
    assert "`context.time` is more than 300 s from the clock" in response.json()["message"]
    del body["context"]["time"]
    assert client.post("/access/v1/evaluation", json=body).json()["context"]["view"] == "gist"


def test_conditions_mentioning_a_withheld_subject_are_masked(client: TestClient) -> None:
    # The vehicle AB12 CDE is marked SC; the agency reader (CTC) may not see it, so
    # a condition naming it is masked as `view` masks it, in every form it is written.
    request = envelope("agency", "container")
    document = request["resource"]["properties"]
    document["grading"]["conditions"] = "Do not approach ab12cde or its driver"
    body = client.post("/access/v1/evaluation", json=request).json()
    shown = " ".join(body["context"]["conditions"])
    assert body["context"]["view"] == "gist"
    assert "ab12cde" not in shown.casefold().replace(" ", "")
    assert "Do not approach" in shown
