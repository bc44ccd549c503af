"""Where a node's policy comes from, and how a new one replaces it.

- a profile **directory** (`--policy DIR`): loaded once, revision `local`;
- a signed **bundle file** (`--policy-bundle FILE`): verified and loaded, then
  watched; when the file changes (or on SIGHUP) it is verified and loaded
  again and swapped in whole. A bundle that does not verify or load is never
  activated: the last good one keeps serving, and `/readyz` and the log say so;
- a **PostgreSQL** table of published bundles (`--policy-db URL`): the newest
  is fetched at start and whenever `dissemination policy publish` notifies
  the channel (LISTEN/NOTIFY), then verified, loaded and swapped the same way.

Publishing stores the bundle as it was signed; every node verifies it itself
against its own trust store, so the database is not trusted with the policy.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from dissemination.errors import UnavailableError
from dissemination.integrity.bundle import (
    BundleError,
    load_bundle_policy,
    parse_bundle,
    read_bundle,
    verify_bundle,
)
from dissemination.integrity.keys import TrustStore
from dissemination.service.state import Active, PolicySlot

__all__ = [
    "CHANNEL",
    "BundleFileWatcher",
    "PolicyDbListener",
    "activate_bundle_file",
    "fetch_latest",
    "libpq_url",
    "publish_bundle",
]

LOG = logging.getLogger("dissemination.service")

CHANNEL = "dissemination_policy"
"""The NOTIFY channel a publication is announced on."""

TABLE = "dissemination_policy_bundles"
"""The table of published bundles (created by the first `policy publish`)."""


def _active_from(data: Any, trust: TrustStore, source: str) -> Active:
    bundle = verify_bundle(data, trust, source=source)
    policy = load_bundle_policy(bundle, source=source)
    return Active(policy=policy, revision=bundle.revision, source=source, created=bundle.created)


def activate_bundle_file(slot: PolicySlot, path: Path, trust: TrustStore) -> bool:
    """Verify, load and activate the bundle in `path`; keep the last good one on failure.

    Returns:
        True when the bundle became active.
    """
    return slot.activate(
        lambda: _active_from(read_bundle(path), trust, str(path)), source=str(path)
    )


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


class BundleFileWatcher:
    """Re-activates a bundle file when it changes (polled) or when asked (SIGHUP)."""

    def __init__(
        self, slot: PolicySlot, path: Path, trust: TrustStore, *, interval: float = 0.25
    ) -> None:
        """Watch `path` every `interval` seconds once started."""
        self.slot = slot
        self.path = path
        self.trust = trust
        self.interval = interval
        self._seen = _signature(path)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reload(self) -> None:
        """Ask for a reload now (the SIGHUP handler calls this)."""
        self._seen = None
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            current = _signature(self.path)
            if current is not None and current != self._seen:
                self._seen = current
                activate_bundle_file(self.slot, self.path, self.trust)

    def start(self) -> None:
        """Start watching (a daemon thread)."""
        self._thread = threading.Thread(target=self._run, name="bundle-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (`postgresql+psycopg://...`) as psycopg's connection string."""
    import sqlalchemy as sa  # noqa: PLC0415 (only for this adapter)

    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise UnavailableError("`--policy-db` must be a PostgreSQL URL")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _hidden(url: str) -> str:
    import sqlalchemy as sa  # noqa: PLC0415

    return sa.make_url(url).render_as_string(hide_password=True)


_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "id BIGSERIAL PRIMARY KEY, revision TEXT NOT NULL, bundle TEXT NOT NULL, "
    "published TIMESTAMPTZ NOT NULL DEFAULT now())"
)


def publish_bundle(url: str, text: str, trust: TrustStore | None = None) -> str:
    """Store a bundle in PostgreSQL and notify every listening node.

    The bundle is verified first (against `trust` when given): publishing one
    that no node would activate is refused.

    Args:
        url: the database (SQLAlchemy or libpq form).
        text: the bundle document, as signed.
        trust: the keys the nodes trust, to check it before publishing.

    Returns:
        The published revision.

    Raises:
        BundleError: the bundle is malformed (or does not verify against `trust`).
        UnavailableError: the database cannot be reached or written.
    """
    import psycopg  # noqa: PLC0415

    data = parse_bundle(text, source="<bundle>")
    revision: Any = None
    if trust is not None:
        revision = verify_bundle(data, trust, source="<bundle>").revision
    else:
        manifest = data.get("manifest") if isinstance(data, dict) else None
        revision = manifest.get("revision") if isinstance(manifest, dict) else None
    if not isinstance(revision, str):
        raise BundleError("not a policy bundle", reason="malformed", source="<bundle>")
    try:
        with psycopg.connect(libpq_url(url), autocommit=False) as connection:
            connection.execute(_CREATE)
            row = connection.execute(
                f"INSERT INTO {TABLE} (revision, bundle) VALUES (%s, %s) RETURNING id",  # noqa: S608 (a constant table name)
                (revision, text),
            ).fetchone()
            connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(row[0] if row else "")))
            connection.commit()
    except psycopg.Error as exc:
        raise UnavailableError(f"{_hidden(url)}: cannot publish ({type(exc).__name__})") from exc
    return revision


def fetch_latest(connection: Any) -> tuple[int, str] | None:
    """The newest published bundle (id, text), or None."""
    connection.execute(_CREATE)
    row = connection.execute(
        f"SELECT id, bundle FROM {TABLE} ORDER BY id DESC LIMIT 1"  # noqa: S608 (a constant table name)
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


class PolicyDbListener:
    """Listens for publications and activates each newest bundle that verifies and loads."""

    def __init__(self, slot: PolicySlot, url: str, trust: TrustStore) -> None:
        """Listen on `url` once started."""
        self.slot = slot
        self.url = url
        self.target = _hidden(url)
        self.trust = trust
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_id: int | None = None

    def _refresh(self, connection: Any) -> None:
        latest = fetch_latest(connection)
        if latest is None or latest[0] == self._last_id:
            return
        self._last_id, text = latest
        source = f"{self.target}#{latest[0]}"
        self.slot.activate(
            lambda: _active_from(parse_bundle(text, source=source), self.trust, source),
            source=source,
        )

    def _run(self) -> None:
        import psycopg  # noqa: PLC0415

        while not self._stop.is_set():
            try:
                with psycopg.connect(libpq_url(self.url), autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._refresh(connection)
                    while not self._stop.is_set():
                        for _note in connection.notifies(timeout=0.5, stop_after=1):
                            pass
                        self._refresh(connection)
            except psycopg.Error as exc:
                LOG.error("policy database %s: %s; retrying", self.target, type(exc).__name__)  # noqa: TRY400 (one line in the log, no traceback)
                self._stop.wait(1.0)

    def start(self) -> None:
        """Start listening (a daemon thread)."""
        self._thread = threading.Thread(target=self._run, name="policy-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
