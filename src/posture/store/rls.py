"""Row-level security on PostgreSQL: the second wall between tenants.

Every table that belongs to a tenant gets a policy that lets a transaction see and write
only the rows of the tenants named in the setting ``posture.tenant_scope`` (tenant ids,
comma separated). A transaction that never sets it (the local operator, the scheduler,
a provider analyst) sees every row. ``Store.session`` sets it with ``set_config(...,
true)`` — local to the transaction — whenever the session has a tenant scope.

PostgreSQL never applies row-level security to superusers, to roles with BYPASSRLS, nor
(without FORCE) to the owner of a table; the tables are FORCEd here, which covers the
owner. Deployment: the service must therefore reach the database either as an ordinary
role, or as its owner with ``rls_role`` configured (``POSTURE_DATABASE_RLS_ROLE``): scoped
sessions then run ``SET LOCAL ROLE`` to that role, which :func:`ensure_role` creates
NOLOGIN and without BYPASSRLS and grants the table privileges it needs.

A table added later that holds ``tenant_id`` calls :func:`enable_rls` in its migration and
is listed in :data:`TENANT_TABLES` (and in ``posture.store.scope``).
"""

from __future__ import annotations

from typing import Any

#: tables with a ``tenant_id`` column
TENANT_TABLES: tuple[str, ...] = (
    "connection",
    "scan",
    "finding",
    "result",
    "notification_channel",
    "notification",
    "finding_event",
    "waiver",
    "schedule",
    "job_run",
    "fix_run",
    "user_account",
)
#: tables that belong to a tenant through their connection
CONNECTION_TABLES: tuple[str, ...] = ("scantarget", "scan_resource")
SETTING = "posture.tenant_scope"
DEFAULT_ROLE = "posture_app"

_SCOPE = f"current_setting('{SETTING}', true)"
_ALL = f"coalesce({_SCOPE}, '') = ''"


def scope_condition(column: str) -> str:
    """SQL true when ``column`` names a tenant in scope, or when no scope is set."""
    return f"({_ALL} OR {column} = ANY(string_to_array({_SCOPE}, ',')))"


def enable_rls(op: Any, table: str, column: str = "tenant_id") -> None:
    """Enable and force row-level security on ``table`` with the tenant-scope policy.

    ``op`` is Alembic's ``op``; nothing happens on other databases than PostgreSQL.
    """
    _policy(op, table, scope_condition(column))


def enable_rls_via_connection(op: Any, table: str) -> None:
    """The same for a table that belongs to a tenant through its ``connection_id``."""
    owned = f'SELECT c.id FROM "connection" c WHERE {scope_condition("c.tenant_id")}'
    _policy(op, table, f"({_ALL} OR connection_id IN ({owned}))")


def _policy(op: Any, table: str, condition: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(f'DROP POLICY IF EXISTS tenant_scope ON "{table}"')
    op.execute(f'CREATE POLICY tenant_scope ON "{table}" USING {condition} WITH CHECK {condition}')


def disable_rls(op: Any, table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'DROP POLICY IF EXISTS tenant_scope ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')


def ensure_role(op: Any, role: str = DEFAULT_ROLE) -> None:
    """Create the NOLOGIN role scoped sessions switch to, and grant it the schema's tables.

    Idempotent; the grants cover the tables and sequences of the current schema, and by
    default privileges those that later migrations create in it.
    """
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DO $$ BEGIN "
        f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
        f'CREATE ROLE "{role}" NOLOGIN NOBYPASSRLS; END IF; '
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
    # the connecting role must be a member to SET ROLE to it (superusers always may)
    op.execute(
        "DO $$ BEGIN "
        "IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN "
        f"EXECUTE format('GRANT \"{role}\" TO %I', current_user); END IF; "
        "EXCEPTION WHEN OTHERS THEN NULL; END $$"
    )
    grants = (
        "GRANT USAGE ON SCHEMA %I TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO {role}",
        # what later migrations create in the schema (as the same role) is granted too
        "ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE "
        "ON TABLES TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    )
    quoted = '"' + role.replace('"', '""') + '"'
    body = " ".join(
        f"EXECUTE format('{grant.format(role=quoted)}', current_schema());" for grant in grants
    )
    op.execute(f"DO $$ BEGIN {body} END $$")
