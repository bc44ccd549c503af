"""The id that marks an imported item as shown to nobody can be held by no reader."""

from __future__ import annotations

import pytest

from dissemination import parse_principal
from dissemination.errors import DocumentError
from dissemination.models import NOBODY
from dissemination.stix.markings import NOBODY as STIX_NOBODY
from tests.strategies import reader_doc


@pytest.mark.parametrize("written", [NOBODY, NOBODY.upper(), "Stix-Import:Nobody"])
def test_a_reader_cannot_hold_the_reserved_id(written: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_principal(reader_doc(id=written))
    message = str(caught.value)
    assert "`id`" in message
    assert written not in message
    assert "\n" not in message


def test_stix_marks_nobody_with_the_reserved_id() -> None:
    assert STIX_NOBODY == NOBODY
    assert parse_principal(reader_doc(id="stix-import-nobody")).id == "stix-import-nobody"
