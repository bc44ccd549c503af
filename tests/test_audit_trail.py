"""The disclosure trail: chaining, every kind of tampering, checkpoints, crashes, concurrency."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dissemination import TrailError, decide, load_item, load_principal
from dissemination.audit import (
    Checkpointer,
    DatabaseSink,
    Disclosure,
    DisclosureTrail,
    JsonlSink,
    TrailSink,
    open_trail,
    repair_torn_tail,
    verify_trail,
)
from dissemination.audit.records import GENESIS, record_hash
from dissemination.integrity import generate_key
from tests.conftest import HUMBER, NOW

POSTGRES_URL = os.environ.get("DISSEMINATION_TEST_POSTGRES_URL")
KEY = generate_key()


def disclosure(index: int, item: str = "IT-1") -> Disclosure:
    return Disclosure(
        time=f"2026-11-27T10:00:{index % 60:02d}.000000Z",
        reader=f"reader-{index}",
        item=item,
        view="gist",
        portions=("p1",),
        subjects=("s1",),
        rules=("base.gist",),
        policy="sha256:" + "a" * 64,
    )


def fill(sink: TrailSink, count: int, *, every: int | None = None) -> None:
    checkpointer = Checkpointer(KEY, every=every) if every else None
    for index in range(1, count + 1):
        sink.append(disclosure(index), checkpointer=checkpointer)


def problem(sink: TrailSink) -> tuple[str, int]:
    report = verify_trail(sink, public_key=KEY.public_key())
    assert report.problem is not None, "expected the trail to fail"
    assert "\n" not in report.problem.message
    return report.problem.kind, report.problem.position


# -- sinks under test --------------------------------------------------------------


@pytest.fixture
def jsonl(tmp_path: Path) -> JsonlSink:
    return JsonlSink(tmp_path / "trail.jsonl")


def _database(url: str) -> Iterator[DatabaseSink]:
    sink = DatabaseSink(url, prefix=f"t_{uuid.uuid4().hex[:12]}")
    try:
        yield sink
    finally:
        sink.drop()
        sink.close()


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[DatabaseSink]:
    yield from _database(f"sqlite:///{tmp_path / 'trail.db'}")


@pytest.fixture
def postgres() -> Iterator[DatabaseSink]:
    if not POSTGRES_URL:
        pytest.skip("set DISSEMINATION_TEST_POSTGRES_URL to test the PostgreSQL sink")
    yield from _database(POSTGRES_URL)


@pytest.fixture(params=["jsonl", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sink(request: pytest.FixtureRequest) -> TrailSink:
    result: TrailSink = request.getfixturevalue(request.param)
    return result


# -- every sink ----------------------------------------------------------------------


def test_records_chain_and_verify(sink: TrailSink) -> None:
    fill(sink, 25, every=10)
    report = verify_trail(sink, public_key=KEY.public_key())
    assert report.ok, report.problem
    assert (report.records, report.checkpoints, report.signatures_checked) == (25, 2, True)
    first = next(iter(sink.records())).data
    assert first is not None
    assert first["prev"] == GENESIS
    assert first["hash"] == record_hash(first)


def test_an_empty_trail_verifies(sink: TrailSink) -> None:
    assert verify_trail(sink).ok


def test_a_decision_is_recorded_without_anything_withheld(sink: TrailSink) -> None:
    item = load_item(HUMBER / "items" / "hum-001-container.yaml")
    reader = load_principal(HUMBER / "readers" / "agency-frontline.yaml")
    decision = decide(reader, item, now=NOW)
    trail = DisclosureTrail(sink)
    record = trail.record(item, decision, at=NOW)
    assert record is not None
    assert (record.reader, record.item, record.view) == (reader.id, item.id, decision.view.label)
    assert record.portions == decision.portions
    assert record.rules == decision.rules
    stored = json.dumps([entry.data for entry in sink.records()])
    for portion in item.portions:
        assert portion.text not in stored
        if portion.id not in decision.portions:
            assert f'"{portion.id}"' not in stored
    for withheld in decision.withheld:
        assert withheld.rule not in record.rules
    assert "facts" not in stored
    assert [r.reader for r in trail.disclosures(item.id)] == [reader.id]
    assert list(trail.disclosures("other")) == []


def test_a_decision_at_none_writes_nothing(sink: TrailSink) -> None:
    item = load_item(HUMBER / "items" / "hum-006-recipients.yaml")
    reader = load_principal(HUMBER / "readers" / "agency-frontline.yaml")
    decision = decide(reader, item, now=NOW)
    assert decision.view.label == "none"
    assert DisclosureTrail(sink).record(item, decision) is None
    assert list(sink.records()) == []


def test_a_rewritten_chain_is_caught_by_its_checkpoint(sink: TrailSink, tmp_path: Path) -> None:
    """Someone who rehashes every record after their edit still cannot sign a checkpoint."""
    fill(sink, 20, every=10)
    entries = [entry.data for entry in sink.records()]
    forged = JsonlSink(tmp_path / "forged.jsonl")
    prev = GENESIS
    for data in entries:
        assert data is not None
        body = {**data, "prev": prev}
        if data["seq"] == 4:
            body["reader"] = "someone-else"
        body.pop("hash")
        body["hash"] = record_hash(body)
        prev = body["hash"]
        with forged.path.open("a") as handle:
            handle.write(json.dumps(body) + "\n")
    forged.checkpoint_path.write_text(
        "".join(json.dumps(e.data) + "\n" for e in sink.checkpoints())
    )
    assert problem(forged) == ("rewritten", 10)


def test_a_forged_checkpoint_is_caught(sink: TrailSink) -> None:
    fill(sink, 10, every=5)
    sink.append(disclosure(11))
    assert sink.checkpoint(Checkpointer(generate_key(), every=5)) is not None
    assert problem(sink) == ("checkpoint", 3)
    assert verify_trail(sink).ok  # without the trail key only the chain is checked


def test_a_forced_checkpoint_signs_the_head(sink: TrailSink) -> None:
    trail = DisclosureTrail(sink, checkpoint_key=KEY, checkpoint_every=1000)
    assert trail.checkpoint() is None
    fill(sink, 3)
    checkpoint = trail.checkpoint()
    assert checkpoint is not None
    assert checkpoint.seq == 3
    assert trail.verify().ok


def test_threads_lose_and_interleave_nothing(sink: TrailSink) -> None:
    checkpointer = Checkpointer(KEY, every=7)

    def work(worker: int) -> None:
        for index in range(25):
            sink.append(disclosure(worker * 100 + index), checkpointer=checkpointer)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = verify_trail(sink, public_key=KEY.public_key())
    assert report.ok, report.problem
    assert report.records == 150
    readers = sorted(entry.data["reader"] for entry in sink.records() if entry.data)
    assert readers == sorted(f"reader-{w * 100 + i}" for w in range(6) for i in range(25))


def test_verifying_while_others_append_sees_a_whole_trail(sink: TrailSink) -> None:
    checkpointer = Checkpointer(KEY, every=3)
    done = threading.Event()

    def work() -> None:
        for index in range(120):
            sink.append(disclosure(index), checkpointer=checkpointer)
        done.set()

    writer = threading.Thread(target=work)
    writer.start()
    reports = []
    while not done.is_set():
        reports.append(verify_trail(sink, public_key=KEY.public_key()))
    writer.join()
    reports.append(verify_trail(sink, public_key=KEY.public_key()))
    assert all(report.ok for report in reports), [r.problem for r in reports if not r.ok]
    assert reports[-1].records == 120


# -- processes ------------------------------------------------------------------------

_WRITER = """
import sys
from dissemination.audit import Checkpointer, Disclosure, open_sink
from dissemination.integrity import load_private_key
sink = open_sink(sys.argv[1])
checkpointer = Checkpointer(load_private_key(sys.argv[2]), every=9)
for index in range(int(sys.argv[3])):
    sink.append(
        Disclosure(
            time="2026-11-27T10:00:00.000000Z", reader=f"{sys.argv[4]}-{index}", item="IT-1",
            view="full", portions=("p1",), subjects=(), rules=("base.full",), policy="sha256:x",
        ),
        checkpointer=checkpointer,
    )
"""


def _run_writers(target: str, tmp_path: Path, *, processes: int, each: int) -> None:
    key_path = tmp_path / "trail.key"
    if not key_path.exists():
        from dissemination.integrity import write_key_pair

        write_key_pair(KEY, organisation="trail", directory=tmp_path)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, target, str(key_path), str(each), f"w{n}"],
        )
        for n in range(processes)
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0] * processes


def _assert_all_written(sink: TrailSink, *, processes: int, each: int) -> None:
    try:
        report = verify_trail(sink, public_key=KEY.public_key())
        assert report.ok, report.problem
        assert report.records == processes * each
        readers = sorted(entry.data["reader"] for entry in sink.records() if entry.data)
        assert readers == sorted(f"w{n}-{i}" for n in range(processes) for i in range(each))
    finally:
        sink.close()


def test_processes_appending_to_one_file_lose_and_interleave_nothing(tmp_path: Path) -> None:
    target = tmp_path / "trail.jsonl"
    _run_writers(str(target), tmp_path, processes=5, each=40)
    _assert_all_written(JsonlSink(target), processes=5, each=40)
    assert target.stat().st_mode & 0o777 == 0o600


def test_processes_appending_to_sqlite_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trail.db'}"
    _run_writers(url, tmp_path, processes=4, each=25)
    _assert_all_written(DatabaseSink(url), processes=4, each=25)


@pytest.mark.postgres
def test_processes_appending_to_postgres_lose_nothing(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip("set DISSEMINATION_TEST_POSTGRES_URL to test the PostgreSQL sink")
    # The writers use the default table prefix: give them a database of their own.
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    target = url.render_as_string(hide_password=False)
    try:
        _run_writers(target, tmp_path, processes=4, each=25)
        _assert_all_written(DatabaseSink(target), processes=4, each=25)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


# -- tampering with a file ------------------------------------------------------------


def _lines(sink: JsonlSink) -> list[str]:
    return sink.path.read_text().splitlines(keepends=True)


def _write(sink: JsonlSink, lines: list[str]) -> None:
    sink.path.write_text("".join(lines))


def test_an_edited_record_is_named(jsonl: JsonlSink) -> None:
    fill(jsonl, 10)
    lines = _lines(jsonl)
    lines[4] = lines[4].replace("reader-5", "reader-X")
    _write(jsonl, lines)
    assert problem(jsonl) == ("edited", 5)


def test_an_edited_and_rehashed_record_breaks_the_next_link(jsonl: JsonlSink) -> None:
    fill(jsonl, 10)
    lines = _lines(jsonl)
    data = json.loads(lines[4])
    data["view"] = "full"
    data.pop("hash")
    data["hash"] = record_hash(data)
    lines[4] = json.dumps(data) + "\n"
    _write(jsonl, lines)
    assert problem(jsonl) == ("relinked", 6)


def test_a_deleted_record_is_named(jsonl: JsonlSink) -> None:
    fill(jsonl, 10)
    lines = _lines(jsonl)
    del lines[3]
    _write(jsonl, lines)
    assert problem(jsonl) == ("deleted", 4)


def test_reordered_records_are_named(jsonl: JsonlSink) -> None:
    fill(jsonl, 10)
    lines = _lines(jsonl)
    lines[6], lines[7] = lines[7], lines[6]
    _write(jsonl, lines)
    assert problem(jsonl) == ("reordered", 7)


def test_an_inserted_record_is_named(jsonl: JsonlSink) -> None:
    fill(jsonl, 10)
    lines = _lines(jsonl)
    forged = json.loads(lines[2])  # a well-formed copy of record 3, pretending to be one more
    forged["reader"] = "intruder"
    forged.pop("hash")
    forged["hash"] = record_hash(forged)
    lines.insert(3, json.dumps(forged) + "\n")
    _write(jsonl, lines)
    assert problem(jsonl) == ("inserted", 4)


def test_a_naively_inserted_line_is_named(jsonl: JsonlSink) -> None:
    fill(jsonl, 5)
    lines = _lines(jsonl)
    lines.insert(2, '{"seq": 3, "reader": "intruder"}\n')
    _write(jsonl, lines)
    assert problem(jsonl) == ("edited", 3)


def test_truncation_after_a_checkpoint_is_detected(jsonl: JsonlSink) -> None:
    fill(jsonl, 25, every=10)
    _write(jsonl, _lines(jsonl)[:15])
    kind, position = problem(jsonl)
    assert (kind, position) == ("truncated", 16)


def test_truncation_after_the_last_checkpoint_is_not_detectable(jsonl: JsonlSink) -> None:
    """The limit of checkpoints: records after the last one are protected by nothing else."""
    fill(jsonl, 25, every=10)
    _write(jsonl, _lines(jsonl)[:22])
    assert verify_trail(jsonl, public_key=KEY.public_key()).ok


def test_a_half_written_last_record_is_reported_and_repaired(jsonl: JsonlSink) -> None:
    fill(jsonl, 8)
    whole = jsonl.path.read_bytes()
    with jsonl.path.open("ab") as handle:
        handle.write(b'{"item": "IT-1", "portions": ["p')  # the process died here
    report = verify_trail(jsonl)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.position, report.records) == ("half_written", 9, 8)
    with pytest.raises(TrailError, match="half-written"):
        fill(jsonl, 1)
    assert repair_torn_tail(jsonl.path) > 0
    assert jsonl.path.read_bytes() == whole
    assert Path(f"{jsonl.path}.torn").read_bytes().startswith(b'{"item"')
    assert repair_torn_tail(jsonl.path) == 0
    fill(jsonl, 2)
    assert verify_trail(jsonl).records == 10


def test_a_failed_write_leaves_the_file_as_it_was(
    jsonl: JsonlSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(jsonl, 3)
    whole = jsonl.path.read_bytes()
    real_write = os.write

    def half_then_fail(descriptor: int, data: object) -> int:
        monkeypatch.setattr(os, "write", fail)
        return real_write(descriptor, bytes(data)[:20])  # type: ignore[call-overload]

    def fail(descriptor: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_fail)
    with pytest.raises(TrailError, match="no space left on device") as caught:
        fill(jsonl, 1)
    assert isinstance(caught.value.__cause__, OSError)
    monkeypatch.undo()
    assert jsonl.path.read_bytes() == whole
    assert verify_trail(jsonl).ok


def test_a_record_with_a_duplicated_key_is_an_edit(jsonl: JsonlSink) -> None:
    fill(jsonl, 3)
    lines = _lines(jsonl)
    lines[1] = lines[1].replace('{"hash"', '{"reader":"x","hash"', 1)
    _write(jsonl, lines)
    assert problem(jsonl) == ("edited", 2)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e400", str(2**60)])
def test_a_value_canonical_json_cannot_hold_is_an_edit(jsonl: JsonlSink, value: str) -> None:
    fill(jsonl, 3)
    lines = _lines(jsonl)
    data = json.loads(lines[1])
    lines[1] = json.dumps(data).replace('"seq": 2', f'"seq": {value}') + "\n"
    assert value in lines[1]
    _write(jsonl, lines)
    assert problem(jsonl) == ("edited", 2)


def test_a_torn_checkpoint_line_is_reported(jsonl: JsonlSink) -> None:
    fill(jsonl, 10, every=5)
    with jsonl.checkpoint_path.open("ab") as handle:
        handle.write(b'{"seq": 1')
    assert problem(jsonl) == ("half_written", 3)


# -- tampering with a database --------------------------------------------------------


def test_a_database_row_edited_or_deleted_is_named(sqlite: DatabaseSink) -> None:
    fill(sqlite, 10)
    table = sa.Table(f"{sqlite.prefix}_records", sa.MetaData(), autoload_with=sqlite.engine)
    with sqlite.engine.begin() as connection:
        connection.execute(sa.update(table).where(table.c.seq == 4).values(item="IT-9"))
    assert problem(sqlite) == ("edited", 4)
    with sqlite.engine.begin() as connection:
        connection.execute(sa.delete(table).where(table.c.seq == 4))
    assert problem(sqlite) == ("deleted", 4)


def test_a_truncated_database_is_detected(sqlite: DatabaseSink) -> None:
    fill(sqlite, 12, every=5)
    table = sa.Table(f"{sqlite.prefix}_records", sa.MetaData(), autoload_with=sqlite.engine)
    with sqlite.engine.begin() as connection:
        connection.execute(sa.delete(table).where(table.c.seq > 7))
    assert problem(sqlite) == ("truncated", 8)


# -- errors from the database are translated ------------------------------------------


def test_a_malformed_database_url_is_a_trail_error() -> None:
    with pytest.raises(TrailError, match="not a database URL") as caught:
        DatabaseSink("://nothing")
    assert isinstance(caught.value.__cause__, sa.exc.ArgumentError)


def test_an_unknown_driver_is_a_trail_error() -> None:
    with pytest.raises(TrailError, match="unknown database driver") as caught:
        DatabaseSink("nosuchdb://host/db")
    assert caught.value.__cause__ is not None


def test_an_unreachable_database_is_a_trail_error_without_password() -> None:
    with pytest.raises(TrailError, match="database error") as caught:
        DatabaseSink("postgresql+psycopg://user:hunter2@127.0.0.1:1/db?connect_timeout=2")
    assert isinstance(caught.value.__cause__, sa.exc.OperationalError)
    assert "hunter2" not in str(caught.value)


def test_an_unwritable_trail_file_is_a_trail_error(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "no-such-dir" / "trail.jsonl")
    with pytest.raises(TrailError, match="cannot open") as caught:
        fill(sink, 1)
    assert isinstance(caught.value.__cause__, OSError)


def test_open_trail_picks_the_sink(tmp_path: Path) -> None:
    assert isinstance(open_trail(tmp_path / "t.jsonl").sink, JsonlSink)
    with open_trail(f"sqlite:///{tmp_path / 't.db'}") as trail:
        assert isinstance(trail.sink, DatabaseSink)
    with pytest.raises(ValueError, match="every"):
        open_trail(tmp_path / "t.jsonl", checkpoint_key=KEY, checkpoint_every=0)
