"""Integrity options shared by the deciding commands (`view`, `filter`, `registry lookup`).

`@integrity_options` adds `--trust DIR` (the trust store, for profiles that
require signed labels) and the audit options. `@audit_options` alone adds
`--audit TARGET` with `--audit-key KEY` and `--checkpoint-every N` (the
disclosure trail): `registry lookup` takes only these, since the registry
checked each label's signature when the item was registered. The options do
not change the command's signature: their values wait in the click context
until the command calls `integrity_setup(policy)`, which gives the label check
for `decide` and the function that records each decision before it is shown,
or `audit_trail()`, which gives the trail alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dissemination.errors import TrustStoreRequiredError

if TYPE_CHECKING:  # the trail (SQLAlchemy) and keys (cryptography) load only when used
    from dissemination.audit import DisclosureTrail
    from dissemination.decision import Decision, LabelCheck
    from dissemination.models import Item
    from dissemination.policy import Policy

__all__ = [
    "IntegritySetup",
    "audit_options",
    "audit_trail",
    "integrity_options",
    "integrity_setup",
    "label_check",
    "trust_option",
]

F = TypeVar("F", bound=Callable[..., Any])

_META = "dissemination.integrity"


def _keep(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta.setdefault(_META, {})[param.name] = value
    return value


def integrity_options(function: F) -> F:
    """Add `--trust`, `--audit`, `--audit-key` and `--checkpoint-every` to a command."""
    return trust_option(audit_options(function))


def trust_option(function: F) -> F:
    """Add `--trust DIR` (or `DISSEMINATION_TRUST`) to a command; read it with `label_check`."""
    return click.option(
        "--trust",
        type=click.Path(path_type=Path),
        default=None,
        metavar="DIR",
        expose_value=False,
        callback=_keep,
        envvar="DISSEMINATION_TRUST",
        help="Trust store (a directory of <organisation>.pem public keys) to verify "
        "signed labels with, when the profile requires them.",
    )(function)


def audit_options(function: F) -> F:
    """Add `--audit`, `--audit-key` and `--checkpoint-every` to a command."""
    options = [
        click.option(
            "--audit",
            default=None,
            metavar="TARGET",
            expose_value=False,
            callback=_keep,
            envvar="DISSEMINATION_AUDIT",
            help="Record every disclosure, before showing it, in this trail: a JSON Lines "
            "file or a database URL (sqlite:///trail.db, postgresql+psycopg://...).",
        ),
        click.option(
            "--audit-key",
            type=click.Path(path_type=Path),
            default=None,
            metavar="KEY",
            expose_value=False,
            callback=_keep,
            envvar="DISSEMINATION_AUDIT_KEY",
            help="The trail's private key, to sign checkpoints of the chain.",
        ),
        click.option(
            "--checkpoint-every",
            type=click.IntRange(min=1),
            default=100,
            show_default=True,
            metavar="N",
            expose_value=False,
            callback=_keep,
            help="Sign a checkpoint after every N records (with --audit-key).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@dataclass(frozen=True, slots=True)
class IntegritySetup:
    """What the integrity options ask of a deciding command.

    Attributes:
        label_check: the check to give `decide` (None when no trust store).
        trail: the disclosure trail, or None when not recording.
    """

    label_check: LabelCheck | None
    trail: DisclosureTrail | None

    def record(self, item: Item, decision: Decision) -> None:
        """Record a decision in the trail, if there is one; call before showing it.

        Args:
            item: the item decided on.
            decision: the decision.

        Raises:
            TrailError: the trail cannot be written (show nothing).
        """
        if self.trail is not None:
            self.trail.record(item, decision)


def integrity_setup(policy: Policy) -> IntegritySetup:
    """Read the integrity options of the running command.

    Args:
        policy: the profile deciding (its `require_signed_labels` setting).

    Returns:
        The label check and trail to use.

    Raises:
        TrustStoreRequiredError: the profile requires signed labels and no
            `--trust` was given.
        KeyFileError: the trust store or trail key cannot be used.
        TrailError: the trail cannot be opened.
    """
    return IntegritySetup(label_check=label_check(policy), trail=audit_trail())


def label_check(policy: Policy) -> LabelCheck | None:
    """The label check the running command's `--trust` gives, for this profile.

    Args:
        policy: the profile deciding (its `require_signed_labels` setting).

    Returns:
        A verifier over the trust store, or None when the profile does not
        require signed labels (a `--trust` given anyway is named in a warning).

    Raises:
        TrustStoreRequiredError: the profile requires signed labels and no
            `--trust` (nor `DISSEMINATION_TRUST`) was given.
        KeyFileError: the trust store cannot be used.
    """
    ctx = click.get_current_context()
    values: dict[str, Any] = ctx.meta.get(_META, {})
    trust_dir: Path | None = values.get("trust")
    if policy.settings.require_signed_labels:
        if trust_dir is None:
            raise TrustStoreRequiredError(profile=policy.name)
        from dissemination.integrity import LabelVerifier, load_trust_store  # noqa: PLC0415

        return LabelVerifier(load_trust_store(trust_dir))
    if ctx.get_parameter_source("trust") is click.core.ParameterSource.COMMANDLINE:
        click.echo(
            f"warning: profile `{policy.name}` does not require signed labels; "
            "`--trust` is not used",
            err=True,
        )
    return None


def audit_trail() -> DisclosureTrail | None:
    """Open the disclosure trail the running command's audit options name.

    The trail is closed when the command's context closes.

    Returns:
        The trail, or None without `--audit`.

    Raises:
        click.UsageError: `--audit-key` without `--audit`.
        KeyFileError: the trail key cannot be used.
        TrailError: the trail cannot be opened.
    """
    ctx = click.get_current_context()
    values: dict[str, Any] = ctx.meta.get(_META, {})
    target: str | None = values.get("audit")
    key_path: Path | None = values.get("audit_key")
    if target is None:
        if key_path is not None:
            raise click.UsageError("`--audit-key` needs `--audit TARGET`")
        return None
    from dissemination.audit import open_trail  # noqa: PLC0415 (SQLAlchemy, only with --audit)
    from dissemination.integrity import load_private_key  # noqa: PLC0415

    key = load_private_key(key_path) if key_path is not None else None
    trail = open_trail(
        target, checkpoint_key=key, checkpoint_every=values.get("checkpoint_every", 100)
    )
    ctx.call_on_close(trail.close)
    return trail
