"""The registry's schema migrations (Alembic), shipped in the wheel.

Run by `dissemination registry upgrade` (`dissemination.registry.upgrade`),
never by ordinary commands. Every table name carries the registry's prefix
(several registries may share a database), so each revision's `upgrade`
takes `prefix`, and the version table is `<prefix>alembic_version`.

A new revision: copy the newest file in `versions/`, set `revision` and
`down_revision`, write `upgrade(prefix)`, and add a test that upgrades a
database of the previous revision holding rows.
"""
