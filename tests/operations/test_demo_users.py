"""The demo's console users: created once, given fresh one-time passwords on every run."""

from __future__ import annotations

from pathlib import Path

from posture.operations import Operations
from posture.operations.demo import DEMO_ADMIN, DEMO_VIEWER, demo_console_users
from posture.operations.identity import authenticate, list_users
from posture.operations.tenants import add_tenant
from posture.store import Store


def test_demo_users_sign_in_with_the_passwords_printed_last(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    store = Store(url)
    add_tenant(Operations.using(store), "demo", name="Demo")
    store.dispose()
    first = demo_console_users(url, "demo")
    second = demo_console_users(url, "demo")
    assert [(u.username, u.role) for u in second] == [
        (DEMO_ADMIN, "provider_admin"),
        (DEMO_VIEWER, "customer_viewer"),
    ]
    store = Store(url)
    ops = Operations.using(store)
    users = {u.username: u for u in list_users(ops)}
    assert users[DEMO_VIEWER].tenant == "demo"
    for old, new in zip(first, second, strict=True):
        assert old.one_time_password != new.one_time_password
        principal = authenticate(ops, new.username, new.one_time_password)
        assert principal.must_change_password
    store.dispose()
