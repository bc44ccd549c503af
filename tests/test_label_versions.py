"""Label versions and replay (issue 13 item 2): the version is signed; an older one can be refused.

Reported: sign v1, then v2 adding `no_agency_staff`; both verify, and showing
v1 gave an agency reader `gist` instead of `pointer`. The version is part of
the signed label, and `decide(..., superseded=...)` shows a version older than
the newest known to nobody.
"""

from __future__ import annotations

from typing import Any

import pytest

from dissemination import View, decide, load_item, load_principal, parse_item
from dissemination.decision import SUPERSEDED
from dissemination.errors import DocumentError, InvalidLabelSignature
from dissemination.integrity import TrustStore, generate_key, sign_label, verify_label
from dissemination.models import Item, NoAgencyStaff
from tests.conftest import HUMBER, NOW

KEY = generate_key()
TRUST = TrustStore.of({"border-force": [KEY]})
AGENCY = load_principal(HUMBER / "readers" / "agency-frontline.yaml")
V1 = sign_label(load_item(HUMBER / "items" / "hum-001-container.yaml"), KEY)
V2 = sign_label(
    V1.model_copy(update={"version": 2, "handling": (*V1.handling, NoAgencyStaff())}), KEY
)


def newest_known(items: list[Item]) -> Any:
    """A `superseded` check from the newest version seen per item id."""
    newest: dict[str, int] = {}
    for item in items:
        newest[item.id] = max(newest.get(item.id, 0), item.version)
    return lambda item: item.version < newest.get(item.id, 0)


def test_both_versions_verify_and_the_version_is_signed() -> None:
    verify_label(V1, TRUST)
    verify_label(V2, TRUST)
    replayed = V1.model_copy(update={"version": 3})  # claims to be newer, same signature
    with pytest.raises(InvalidLabelSignature) as caught:
        verify_label(replayed, TRUST)
    assert caught.value.reason == "mismatch"


def test_the_reported_replay() -> None:
    assert decide(AGENCY, V1, now=NOW).view is View.GIST  # what the replay gave
    assert decide(AGENCY, V2, now=NOW).view is View.POINTER
    check = newest_known([V1, V2])
    replay = decide(AGENCY, V1, now=NOW, superseded=check)
    assert replay.view is View.NONE
    assert replay.reasons == (SUPERSEDED,)
    assert decide(AGENCY, V2, now=NOW, superseded=check) == decide(AGENCY, V2, now=NOW)


def test_a_check_that_fails_fails_closed() -> None:
    def broken(_item: Item) -> bool:
        raise RuntimeError("version store unreachable")

    assert decide(AGENCY, V2, now=NOW, superseded=broken).view is View.NONE


def test_version_defaults_to_1_and_must_be_positive() -> None:
    data = V1.model_dump(mode="json", exclude_none=True, exclude={"signature", "version"})
    assert parse_item(data).version == 1
    with pytest.raises(DocumentError, match="version"):
        parse_item({**data, "version": 0})
