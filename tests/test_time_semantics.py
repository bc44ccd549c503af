"""One time semantics (issue 13 item 3): instants compared in UTC, in whatever zone written.

The data contract: a vetting `expires: D` is held until 00:00 UTC on D and not
from that instant on; an embargo's `until` is an instant. The same instant
written in any zone decides the same, on both sides of each boundary.
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from dissemination import View, decide, parse_item, parse_principal
from dissemination.cli import main
from dissemination.decision import utc_day
from tests.conftest import HUMBER
from tests.strategies import item_doc, reader_doc

ZONES = [
    dt.timezone(dt.timedelta(hours=hours, minutes=minutes))
    for hours, minutes in [
        (-12, 0),
        (-5, 0),
        (-3, -30),
        (0, 0),
        (1, 0),
        (5, 30),
        (9, 0),
        (12, 45),
        (14, 0),
    ]
]
"""Offsets from UTC-12 to UTC+14, with half- and three-quarter-hour ones."""

EXPIRES = dt.date(2027, 3, 1)
LAPSE = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
"""The instant a clearance with `expires: 2027-03-01` stops being held."""

SC_READER = parse_principal(reader_doc(vetting={"level": "SC", "expires": EXPIRES.isoformat()}))
SC_ITEM = parse_item(item_doc(classification="SECRET"))

MOMENTS = [
    dt.timedelta(microseconds=-1),
    dt.timedelta(0),
    dt.timedelta(hours=-5, minutes=-30),
    dt.timedelta(hours=4, minutes=30),
    dt.timedelta(hours=23, minutes=59),
]


@pytest.mark.parametrize("zone", ZONES, ids=str)
@pytest.mark.parametrize("offset", MOMENTS, ids=str)
def test_vetting_expiry_depends_on_the_instant_not_its_zone(
    zone: dt.timezone, offset: dt.timedelta
) -> None:
    instant = LAPSE + offset
    written = instant.astimezone(zone)
    assert written == instant  # the same instant, written in another zone
    view = decide(SC_READER, SC_ITEM, now=written).view
    expected = View.FULL if instant < LAPSE else decide(SC_READER, SC_ITEM, now=LAPSE).view
    assert view is expected
    assert (view is View.FULL) == (instant < LAPSE)


def test_the_reported_case_decides_alike() -> None:
    """Issue 13: 04:30Z gave `pointer` and 23:30-05:00 (the same instant) gave `full`."""
    utc = dt.datetime(2027, 3, 1, 4, 30, tzinfo=dt.UTC)
    new_york = dt.datetime(2027, 2, 28, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert utc == new_york
    assert decide(SC_READER, SC_ITEM, now=utc) == decide(SC_READER, SC_ITEM, now=new_york)
    assert decide(SC_READER, SC_ITEM, now=new_york).view is not View.FULL


@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_utc_day(zone: dt.timezone) -> None:
    assert utc_day((LAPSE - dt.timedelta(microseconds=1)).astimezone(zone)) == dt.date(2027, 2, 28)
    assert utc_day(LAPSE.astimezone(zone)) == EXPIRES


UNTIL = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
OUTSIDER = parse_principal(reader_doc(organisation="nca", vetting={"level": "SC"}))
EMBARGOED = parse_item(
    item_doc(handling=[{"kind": "embargo", "until": "2026-12-01T07:00:00+01:00"}])
)


@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_an_embargo_lifts_at_its_instant_in_every_zone(zone: dt.timezone) -> None:
    before = (UNTIL - dt.timedelta(microseconds=1)).astimezone(zone)
    assert decide(OUTSIDER, EMBARGOED, now=before).view is View.POINTER
    assert decide(OUTSIDER, EMBARGOED, now=UNTIL.astimezone(zone)).view is View.FULL


@pytest.mark.parametrize(
    "now", ["2027-03-01T04:30:00Z", "2027-02-28T23:30:00-05:00", "2027-03-01T10:00:00+05:30"]
)
def test_the_cli_decides_one_instant_alike_in_any_zone(now: str) -> None:
    reader = HUMBER / "readers" / "agency-frontline.yaml"  # CTC, expires 2027-03-01
    item = HUMBER / "items" / "hum-001-container.yaml"
    before = CliRunner().invoke(
        main, ["view", str(item), "--as", str(reader), "--now", "2027-02-28T23:59:59Z"]
    )
    after = CliRunner().invoke(main, ["view", str(item), "--as", str(reader), "--now", now])
    assert before.exit_code == after.exit_code == 0
    assert '"view": "gist"' in before.stdout
    assert '"view": "pointer"' in after.stdout
