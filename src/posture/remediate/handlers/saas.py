"""Handlers of the Microsoft 365 and Google Workspace fixes a YAML step cannot express.

Each reads a small, normalised state (only the properties it changes), computes the
after-state from it, writes only what differs and restores exactly what it read.
"""

from __future__ import annotations

from typing import Any

from posture.remediate.registry import FixContext, fix_handler

AUTHORIZATION_POLICY = "/policies/authorizationPolicy"
METHOD_CONFIGURATIONS = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations"
USER_CONSENT = "ManagePermissionGrantsForSelf."
# the @odata.type Graph requires in the body of each method configuration's update
METHOD_TYPES = {
    "sms": "#microsoft.graph.smsAuthenticationMethodConfiguration",
    "voice": "#microsoft.graph.voiceAuthenticationMethodConfiguration",
    "email": "#microsoft.graph.emailAuthenticationMethodConfiguration",
}


def _graph(ctx: FixContext, operation: str, path: str, body: Any = None) -> dict[str, Any]:
    args: dict[str, Any] = {"path": path}
    if body is not None:
        args["body"] = body
    return ctx.client.call("graph", operation, args, region=ctx.target.region)


@fix_handler("m365.user_consent")
class UserConsent:
    """The permission grant policies of the default user role, without those letting users
    consent for themselves (``ManagePermissionGrantsForSelf.*``); resource-specific consent
    for owned teams and chats (``ManagePermissionGrantsForOwnedResource.*``) is kept."""

    def read(self, ctx: FixContext) -> Any:
        policy = _graph(ctx, "get", AUTHORIZATION_POLICY)
        # Graph keeps the order it was given: kept as read, so a rollback puts it back exactly
        assigned = policy.get("permissionGrantPolicyIdsAssignedToDefaultUserRole") or []
        return [str(p) for p in assigned]

    def desired(self, ctx: FixContext, before: Any) -> Any:
        return [p for p in before if not p.startswith(USER_CONSENT)]

    def apply(self, ctx: FixContext, before: Any, after: Any) -> None:
        self._write(ctx, after)

    def restore(self, ctx: FixContext, before: Any, current: Any) -> None:
        self._write(ctx, before)

    @staticmethod
    def _write(ctx: FixContext, assigned: list[str]) -> None:
        body = {"permissionGrantPolicyIdsAssignedToDefaultUserRole": list(assigned)}
        _graph(ctx, "patch", AUTHORIZATION_POLICY, body)


@fix_handler("m365.authentication_method_states")
class AuthenticationMethodStates:
    """The state (enabled/disabled) of the methods named in ``params.methods``; each method
    whose state differs is updated on its own configuration, nothing else of it changes."""

    def read(self, ctx: FixContext) -> Any:
        states: dict[str, str] = {}
        for method in _methods(ctx):
            found = _graph(ctx, "get", f"{METHOD_CONFIGURATIONS}/{method}")
            states[method] = str(found.get("state") or "")
        return states

    def desired(self, ctx: FixContext, before: Any) -> Any:
        wanted = str(ctx.fix.params.get("state", "disabled"))
        return {method: wanted for method in before}

    def apply(self, ctx: FixContext, before: Any, after: Any) -> None:
        self._write(ctx, after, before)

    def restore(self, ctx: FixContext, before: Any, current: Any) -> None:
        self._write(ctx, before, current)

    @staticmethod
    def _write(ctx: FixContext, wanted: dict[str, str], current: dict[str, str]) -> None:
        for method, state in wanted.items():
            if current.get(method) == state:
                continue
            kind = METHOD_TYPES.get(method.lower())
            body: dict[str, Any] = {"state": state}
            if kind:
                body = {"@odata.type": kind, **body}
            _graph(ctx, "patch", f"{METHOD_CONFIGURATIONS}/{method}", body)


def _methods(ctx: FixContext) -> list[str]:
    methods = ctx.fix.params.get("methods") or []
    return [str(m) for m in methods]


def _group(ctx: FixContext) -> str:
    return str(ctx.target.data.get("email") or ctx.target.name)


@fix_handler("gws.group_settings")
class GroupSettings:
    """Groups Settings fields of one group: ``params.set`` gives fields their value,
    ``params.replace`` maps a field's unsafe values to safe ones (other values stay)."""

    def read(self, ctx: FixContext) -> Any:
        found = ctx.client.call(
            "groupssettings", "groups_get", {"groupUniqueId": _group(ctx)}, region=ctx.target.region
        )
        return {name: found.get(name) for name in sorted(self._fields(ctx))}

    def desired(self, ctx: FixContext, before: Any) -> Any:
        after = dict(before)
        for name, value in (ctx.fix.params.get("set") or {}).items():
            after[name] = value
        for name, mapping in (ctx.fix.params.get("replace") or {}).items():
            after[name] = mapping.get(before.get(name), before.get(name))
        return after

    def apply(self, ctx: FixContext, before: Any, after: Any) -> None:
        self._write(ctx, after, before)

    def restore(self, ctx: FixContext, before: Any, current: Any) -> None:
        self._write(ctx, before, current)

    @staticmethod
    def _fields(ctx: FixContext) -> set[str]:
        params = ctx.fix.params
        return set(params.get("set") or {}) | set(params.get("replace") or {})

    @staticmethod
    def _write(ctx: FixContext, wanted: dict[str, Any], current: dict[str, Any]) -> None:
        body = {k: v for k, v in wanted.items() if current.get(k) != v and v is not None}
        if body:
            args = {"groupUniqueId": _group(ctx), "body": body}
            ctx.client.call("groupssettings", "groups_patch", args, region=ctx.target.region)
