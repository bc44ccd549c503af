"""Building a service from `dissemination serve`'s options, and running it on uvicorn.

The options travel to each uvicorn worker as JSON in an environment variable
(`DISSEMINATION_SERVE_OPTIONS`): every worker builds its own application with
`app_from_environment` (a uvicorn factory), loads its own policy and, with a
bundle or a policy database, watches for new policy itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from dissemination.errors import InputError
from dissemination.integrity import LabelVerifier, load_private_key, load_trust_store
from dissemination.policy import load_policy
from dissemination.service.app import ServiceConfig, create_app
from dissemination.service.auth import (
    DirectoryReader,
    PropertiesReader,
    ReaderSource,
    TokenReader,
    load_callers,
)
from dissemination.service.policy_source import (
    BundleFileWatcher,
    PolicyDbListener,
    activate_bundle_file,
)
from dissemination.service.state import Active, PolicySlot, ServiceState

__all__ = ["ENVIRONMENT", "ServeOptions", "app_from_environment", "build_app"]

ENVIRONMENT = "DISSEMINATION_SERVE_OPTIONS"

LOG = logging.getLogger("dissemination.service")


@dataclass(frozen=True)
class ServeOptions:
    """What `serve` was asked for (paths as strings: it travels as JSON)."""

    policy: str | None = None
    policy_bundle: str | None = None
    policy_db: str | None = None
    policy_trust: str | None = None
    trust: str | None = None
    audit: str | None = None
    audit_key: str | None = None
    callers: str | None = None
    readers: str | None = None
    jwks: str | None = None
    claims: str | None = None
    registry: str | None = None
    registry_key: str | None = None
    max_clock_skew: float | None = None

    def to_json(self) -> str:
        """The options as JSON."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeOptions:
        """Options from `to_json`'s text."""
        return cls(**json.loads(text))


def _slot(options: ServeOptions) -> tuple[PolicySlot, list[Any]]:
    """The policy slot, and the watchers that keep it current."""
    sources = [options.policy, options.policy_bundle, options.policy_db]
    if sum(source is not None for source in sources) > 1:
        raise InputError("give one of `--policy`, `--policy-bundle`, `--policy-db`")
    if options.policy_bundle is None and options.policy_db is None:
        policy = load_policy(options.policy)
        source = options.policy or "the embedded default profile"
        return PolicySlot(Active(policy, "local", source)), []
    if options.policy_trust is None:
        raise InputError("a policy bundle needs `--policy-trust DIR` (the security team's keys)")
    trust = load_trust_store(options.policy_trust)
    slot = PolicySlot()
    if options.policy_bundle is not None:
        path = Path(options.policy_bundle)
        if not activate_bundle_file(slot, path, trust):
            raise InputError(f"the bundle was not activated: {slot.problem}")
        watcher = BundleFileWatcher(slot, path, trust)
        return slot, [watcher]
    assert options.policy_db is not None  # noqa: S101 (one of the three, checked above)
    return slot, [PolicyDbListener(slot, options.policy_db, trust)]


def _readers(options: ServeOptions, slot: PolicySlot) -> ReaderSource:
    chosen = [options.readers is not None, options.jwks is not None]
    if all(chosen):
        raise InputError("give `--readers` or `--jwks`, not both")
    if options.readers is not None:
        active = slot.active
        policy = active.policy if active is not None else load_policy(None)
        return DirectoryReader(options.readers, policy=policy)
    if options.jwks is not None:
        if options.claims is None:
            raise InputError("`--jwks` needs `--claims FILE` (the claims-to-principal mapping)")
        return TokenReader(options.jwks, options.claims)
    return PropertiesReader()


def build_app(options: ServeOptions) -> Starlette:
    """The application `serve` runs, with its policy watchers started by its lifespan.

    Raises:
        InputError: an option names a file that cannot be used.
        DisseminationError: the policy, trust store or trail cannot be used.
    """
    slot, watchers = _slot(options)
    label_check = LabelVerifier(load_trust_store(options.trust)) if options.trust else None
    trail = None
    if options.audit is not None:
        from dissemination.audit import open_trail  # noqa: PLC0415

        key = load_private_key(options.audit_key) if options.audit_key else None
        trail = open_trail(options.audit, checkpoint_key=key)
    registry = None
    if options.registry is not None:
        from dissemination.service.registry_routes import open_registry  # noqa: PLC0415

        registry = open_registry(options.registry, options.registry_key)
    config = ServiceConfig(
        state=ServiceState(
            slot=slot,
            label_check=label_check,
            trail=trail,
            max_skew=(
                dt.timedelta(seconds=options.max_clock_skew)
                if options.max_clock_skew is not None
                else None
            ),
        ),
        readers=_readers(options, slot),
        callers=load_callers(options.callers) if options.callers else None,
        registry=registry,
    )
    app = create_app(config)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        for watcher in watchers:
            watcher.start()
        reloadable = [w for w in watchers if isinstance(w, BundleFileWatcher)]

        def on_hangup(*_args: object) -> None:
            for watcher in reloadable:
                watcher.reload()

        if reloadable:
            with contextlib.suppress(ValueError):  # not the main thread (tests)
                signal.signal(signal.SIGHUP, on_hangup)
        try:
            yield
        finally:
            for watcher in watchers:
                watcher.stop()
            if trail is not None:
                trail.close()

    app.router.lifespan_context = lifespan
    return app


def app_from_environment() -> Starlette:
    """The uvicorn factory: build the app from the options in `ENVIRONMENT`."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return build_app(ServeOptions.from_json(os.environ[ENVIRONMENT]))
