"""Google Cloud fixes: one setting of a bucket, firewall rule, project, VM, SQL instance or key.

Every write that Google guards with a precondition carries it: the handler reads the
resource again right before writing, checks that the state is still the one it moves from,
and sends the version it read (Cloud Storage ``ifMetagenerationMatch`` and the policy
``etag``, Compute Engine's metadata ``fingerprint``, Cloud KMS's policy ``etag``), so a
change made in between is refused by Google instead of being overwritten. Compute Engine
firewall rules and Cloud SQL settings have no such precondition; there the re-read is the
guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from posture.remediate.registry import FixContext, ProviderCallError, fix_handler

PUBLIC = ("allUsers", "allAuthenticatedUsers")


def _segment(link: str, name: str) -> str:
    """The value after ``name`` in a resource path (``projects`` -> the project id)."""
    parts = link.split("/")
    if name not in parts or parts.index(name) + 1 >= len(parts):
        raise ProviderCallError(f"'{link}' names no {name}", code="INVALID_RESOURCE")
    return parts[parts.index(name) + 1]


def _unchanged(state: Any, before: Any) -> None:
    """Raised when the resource changed between the engine's check and the write."""
    if state != before:
        raise ProviderCallError(
            "the resource changed right before the write; nothing was changed",
            code="CHANGED",
        )


# --- Cloud Storage ---------------------------------------------------------------------


@fix_handler("gcp.storage.uniform_bucket_level_access")
class UniformBucketLevelAccess:
    """State: whether uniform bucket-level access is on (``false`` when Google omits it)."""

    def _get(self, ctx: FixContext) -> dict[str, Any]:
        return ctx.client.call("storage.v1", "buckets.get", {"bucket": ctx.target.name}, region="")

    def _state(self, bucket: Mapping[str, Any]) -> bool:
        config = (bucket.get("iamConfiguration") or {}).get("uniformBucketLevelAccess") or {}
        return config.get("enabled") is True

    def read(self, ctx: FixContext) -> bool:
        return self._state(self._get(ctx))

    def desired(self, ctx: FixContext, before: bool) -> bool:
        return True

    def _set(self, ctx: FixContext, from_state: bool, enabled: bool) -> None:
        bucket = self._get(ctx)
        _unchanged(self._state(bucket), from_state)
        ctx.client.call(
            "storage.v1",
            "buckets.patch",
            {
                "bucket": ctx.target.name,
                "ifMetagenerationMatch": str(bucket.get("metageneration") or "1"),
                "body": {"iamConfiguration": {"uniformBucketLevelAccess": {"enabled": enabled}}},
            },
            region="",
        )

    def apply(self, ctx: FixContext, before: bool, after: bool) -> None:
        self._set(ctx, before, after)

    def restore(self, ctx: FixContext, before: bool, current: bool) -> None:
        self._set(ctx, current, before)


def public_grants(bindings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The (role, member, condition) grants to allUsers / allAuthenticatedUsers, sorted."""
    out = []
    for binding in bindings:
        for member in binding.get("members") or []:
            if member in PUBLIC:
                grant: dict[str, Any] = {"role": binding.get("role"), "member": member}
                if binding.get("condition"):
                    grant["condition"] = dict(binding["condition"])
                out.append(grant)
    return sorted(out, key=lambda g: (str(g["role"]), g["member"], str(g.get("condition"))))


def _same_binding(binding: Mapping[str, Any], grant: Mapping[str, Any]) -> bool:
    return binding.get("role") == grant["role"] and (binding.get("condition") or None) == (
        grant.get("condition") or None
    )


def without(bindings: list[dict[str, Any]], grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``bindings`` with the members of ``grants`` taken out; emptied bindings dropped."""
    out = []
    for binding in bindings:
        gone = {g["member"] for g in grants if _same_binding(binding, g)}
        members = [m for m in binding.get("members") or [] if m not in gone]
        if members:
            out.append({**binding, "members": members})
    return out


def adding(bindings: list[dict[str, Any]], grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``bindings`` with the members of ``grants`` put back (into their binding, or a new one)."""
    out = [dict(b, members=list(b.get("members") or [])) for b in bindings]
    for grant in grants:
        home = next((b for b in out if _same_binding(b, grant)), None)
        if home is None:
            home = {"role": grant["role"], "members": []}
            if grant.get("condition"):
                home["condition"] = dict(grant["condition"])
            out.append(home)
        if grant["member"] not in home["members"]:
            home["members"].append(grant["member"])
    return out


class _PublicMembers:
    """State: the grants of the resource's IAM policy to allUsers / allAuthenticatedUsers.
    The after-state is none; restoring adds exactly the removed grants back."""

    def _get(self, ctx: FixContext) -> dict[str, Any]:
        raise NotImplementedError

    def _put(self, ctx: FixContext, policy: dict[str, Any]) -> None:
        raise NotImplementedError

    def read(self, ctx: FixContext) -> list[dict[str, Any]]:
        return public_grants(self._get(ctx).get("bindings") or [])

    def desired(self, ctx: FixContext, before: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return []

    def _change(
        self, ctx: FixContext, from_state: list[dict[str, Any]], grants: list[dict[str, Any]]
    ) -> None:
        """Replace the public grants ``from_state`` (checked live) by ``grants``."""
        policy = self._get(ctx)
        bindings = list(policy.get("bindings") or [])
        current = public_grants(bindings)
        _unchanged(current, from_state)
        bindings = adding(without(bindings, current), grants)
        conditional = any(b.get("condition") for b in bindings)
        self._put(
            ctx,
            {
                "bindings": bindings,
                "etag": policy.get("etag"),
                "version": 3 if conditional else policy.get("version") or 1,
            },
        )

    def apply(self, ctx: FixContext, before: list[Any], after: list[Any]) -> None:
        self._change(ctx, before, after)

    def restore(self, ctx: FixContext, before: list[Any], current: list[Any]) -> None:
        self._change(ctx, current, before)


@fix_handler("gcp.storage.public_members")
class BucketPublicMembers(_PublicMembers):
    def _get(self, ctx: FixContext) -> dict[str, Any]:
        return ctx.client.call(
            "storage.v1",
            "buckets.getIamPolicy",
            {"bucket": ctx.target.name, "optionsRequestedPolicyVersion": 3},
            region="",
        )

    def _put(self, ctx: FixContext, policy: dict[str, Any]) -> None:
        ctx.client.call(
            "storage.v1",
            "buckets.setIamPolicy",
            {"bucket": ctx.target.name, "body": policy},
            region="",
        )


@fix_handler("gcp.cloudkms.public_members")
class KeyPublicMembers(_PublicMembers):
    def _get(self, ctx: FixContext) -> dict[str, Any]:
        return ctx.client.call(
            "cloudkms.v1",
            "projects.locations.keyRings.cryptoKeys.getIamPolicy",
            {"resource": ctx.target.uid, "options_requestedPolicyVersion": 3},
            region="",
        )

    def _put(self, ctx: FixContext, policy: dict[str, Any]) -> None:
        ctx.client.call(
            "cloudkms.v1",
            "projects.locations.keyRings.cryptoKeys.setIamPolicy",
            {"resource": ctx.target.uid, "body": {"policy": policy}},
            region="",
        )


# --- Compute Engine ------------------------------------------------------------------------


@fix_handler("gcp.compute.firewall_disabled")
class FirewallDisabled:
    """State: whether the firewall rule is disabled (``false`` when Google omits it)."""

    def _args(self, ctx: FixContext) -> dict[str, Any]:
        return {"project": _segment(ctx.target.uid, "projects"), "firewall": ctx.target.name}

    def read(self, ctx: FixContext) -> bool:
        rule = ctx.client.call("compute.v1", "firewalls.get", self._args(ctx), region="")
        return rule.get("disabled") is True

    def desired(self, ctx: FixContext, before: bool) -> bool:
        return True

    def _set(self, ctx: FixContext, from_state: bool, disabled: bool) -> None:
        _unchanged(self.read(ctx), from_state)
        args = {**self._args(ctx), "body": {"disabled": disabled}}
        ctx.client.call("compute.v1", "firewalls.patch", args, region="")

    def apply(self, ctx: FixContext, before: bool, after: bool) -> None:
        self._set(ctx, before, after)

    def restore(self, ctx: FixContext, before: bool, current: bool) -> None:
        self._set(ctx, current, before)


@fix_handler("gcp.compute.metadata_value")
class MetadataValue:
    """State: the value of one metadata key (``params.key``) of the project's common instance
    metadata (``params.scope: project``) or of a VM's own (``scope: instance``); null when the
    key is absent. The after-state is ``params.value``; restoring puts the old value back or
    removes the key again. Other keys are left as they are."""

    def _scope(self, ctx: FixContext) -> str:
        return str(ctx.fix.params.get("scope", "project"))

    def _metadata(self, ctx: FixContext) -> dict[str, Any]:
        uid = ctx.target.uid
        project = _segment(uid, "projects")
        if self._scope(ctx) == "instance":
            args = {"project": project, "zone": _segment(uid, "zones"), "instance": ctx.target.name}
            found = ctx.client.call("compute.v1", "instances.get", args, region="")
            return dict(found.get("metadata") or {})
        found = ctx.client.call("compute.v1", "projects.get", {"project": project}, region="")
        return dict(found.get("commonInstanceMetadata") or {})

    def _value(self, metadata: Mapping[str, Any], key: str) -> str | None:
        values = [i.get("value") for i in metadata.get("items") or [] if i.get("key") == key]
        return str(values[0]) if values else None

    def read(self, ctx: FixContext) -> str | None:
        return self._value(self._metadata(ctx), str(ctx.fix.params["key"]))

    def desired(self, ctx: FixContext, before: str | None) -> str:
        return str(ctx.fix.params["value"])

    def _set(self, ctx: FixContext, from_state: str | None, value: str | None) -> None:
        key = str(ctx.fix.params["key"])
        metadata = self._metadata(ctx)
        _unchanged(self._value(metadata, key), from_state)
        items = [dict(i) for i in metadata.get("items") or [] if i.get("key") != key]
        if value is not None:
            position = [i.get("key") for i in metadata.get("items") or []]
            item = {"key": key, "value": value}
            items.insert(position.index(key) if key in position else len(items), item)
        body = {"fingerprint": metadata.get("fingerprint"), "items": items}
        uid = ctx.target.uid
        project = _segment(uid, "projects")
        if self._scope(ctx) == "instance":
            args = {
                "project": project,
                "zone": _segment(uid, "zones"),
                "instance": ctx.target.name,
                "body": body,
            }
            ctx.client.call("compute.v1", "instances.setMetadata", args, region="")
        else:
            ctx.client.call(
                "compute.v1",
                "projects.setCommonInstanceMetadata",
                {"project": project, "body": body},
                region="",
            )

    def apply(self, ctx: FixContext, before: str | None, after: str | None) -> None:
        self._set(ctx, before, after)

    def restore(self, ctx: FixContext, before: str | None, current: str | None) -> None:
        self._set(ctx, current, before)


# --- Cloud SQL -----------------------------------------------------------------------------

DEFAULT_SSL_MODE = "ALLOW_UNENCRYPTED_AND_ENCRYPTED"  # what an instance without sslMode does


@fix_handler("gcp.sql.ssl_mode")
class SqlSslMode:
    """State: ``{sslMode, requireSsl}`` of the instance's IP configuration (an absent sslMode
    is its documented default). The after-state is ``params.ssl_mode`` with the requireSsl
    value Google pairs it with for the engine."""

    def _args(self, ctx: FixContext) -> dict[str, Any]:
        project = str(ctx.target.data.get("project") or _segment(ctx.target.uid, "projects"))
        return {"project": project, "instance": ctx.target.name}

    def read(self, ctx: FixContext) -> dict[str, Any]:
        found = ctx.client.call("sqladmin.v1beta4", "instances.get", self._args(ctx), region="")
        config = (found.get("settings") or {}).get("ipConfiguration") or {}
        return {
            "sslMode": str(config.get("sslMode") or DEFAULT_SSL_MODE),
            "requireSsl": config.get("requireSsl") is True,
        }

    def desired(self, ctx: FixContext, before: dict[str, Any]) -> dict[str, Any]:
        mode = str(ctx.fix.params.get("ssl_mode", "ENCRYPTED_ONLY"))
        sql_server = str(ctx.target.data.get("databaseVersion", "")).startswith("SQLSERVER")
        pairs = mode == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED" or (
            sql_server and mode == "ENCRYPTED_ONLY"
        )
        return {"sslMode": mode, "requireSsl": pairs}

    def _set(self, ctx: FixContext, from_state: dict[str, Any], to: dict[str, Any]) -> None:
        _unchanged(self.read(ctx), from_state)
        body = {"settings": {"ipConfiguration": dict(to)}}
        ctx.client.call(
            "sqladmin.v1beta4", "instances.patch", {**self._args(ctx), "body": body}, region=""
        )

    def apply(self, ctx: FixContext, before: dict[str, Any], after: dict[str, Any]) -> None:
        self._set(ctx, before, after)

    def restore(self, ctx: FixContext, before: dict[str, Any], current: dict[str, Any]) -> None:
        self._set(ctx, current, before)


OPEN_NETWORKS = ("0.0.0.0/0", "0.0.0.0", "::/0")


def _open(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    found = [dict(e) for e in entries if e.get("value") in OPEN_NETWORKS]
    return sorted(found, key=lambda e: (str(e.get("value")), str(e.get("name"))))


@fix_handler("gcp.sql.authorized_networks")
class SqlOpenNetworks:
    """State: the authorized networks of the instance that let any address in, sorted. The
    after-state is none of them; the other entries are kept, and restoring adds exactly the
    removed entries back (name and expiration included)."""

    def _networks(self, ctx: FixContext) -> list[dict[str, Any]]:
        args = SqlSslMode()._args(ctx)
        found = ctx.client.call("sqladmin.v1beta4", "instances.get", args, region="")
        config = (found.get("settings") or {}).get("ipConfiguration") or {}
        return [dict(e) for e in config.get("authorizedNetworks") or []]

    def read(self, ctx: FixContext) -> list[dict[str, Any]]:
        return _open(self._networks(ctx))

    def desired(self, ctx: FixContext, before: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return []

    def _set(
        self, ctx: FixContext, from_state: list[dict[str, Any]], to: list[dict[str, Any]]
    ) -> None:
        networks = self._networks(ctx)
        _unchanged(_open(networks), from_state)
        kept = [e for e in networks if e.get("value") not in OPEN_NETWORKS]
        body = {"settings": {"ipConfiguration": {"authorizedNetworks": kept + list(to)}}}
        args = {**SqlSslMode()._args(ctx), "body": body}
        ctx.client.call("sqladmin.v1beta4", "instances.patch", args, region="")

    def apply(self, ctx: FixContext, before: list[Any], after: list[Any]) -> None:
        self._set(ctx, before, after)

    def restore(self, ctx: FixContext, before: list[Any], current: list[Any]) -> None:
        self._set(ctx, current, before)


# --- Cloud KMS -----------------------------------------------------------------------------

ROTATION_FIELDS = ("rotationPeriod", "nextRotationTime")


def _timestamp(value: Any) -> str | None:
    """RFC 3339 in one spelling (UTC, whole seconds), so states compare however Google
    formats them."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(duration: str | None) -> float | None:
    return float(duration.removesuffix("s")) if duration else None


@fix_handler("gcp.cloudkms.rotation")
class KeyRotation:
    """State: ``{rotationPeriod, nextRotationTime}`` of the key (null when not scheduled).

    The after-state keeps a scheduled next rotation that comes sooner than the new period,
    and otherwise schedules it one period after the plan; restoring puts both fields back
    (clearing them when the key had no rotation)."""

    def read(self, ctx: FixContext) -> dict[str, Any]:
        key = ctx.client.call(
            "cloudkms.v1",
            "projects.locations.keyRings.cryptoKeys.get",
            {"name": ctx.target.uid},
            region="",
        )
        return {
            "rotationPeriod": key.get("rotationPeriod"),
            "nextRotationTime": _timestamp(key.get("nextRotationTime")),
        }

    def desired(self, ctx: FixContext, before: dict[str, Any]) -> dict[str, Any]:
        period = str(ctx.fix.params.get("rotation_period", "7776000s"))
        latest = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=_seconds(period) or 0)
        scheduled = before.get("nextRotationTime")
        if scheduled:
            when = datetime.fromisoformat(str(scheduled).replace("Z", "+00:00"))
            if datetime.now(UTC) < when <= latest:
                return {"rotationPeriod": period, "nextRotationTime": scheduled}
        return {"rotationPeriod": period, "nextRotationTime": latest.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def _set(self, ctx: FixContext, from_state: dict[str, Any], to: dict[str, Any]) -> None:
        _unchanged(self.read(ctx), from_state)
        ctx.client.call(
            "cloudkms.v1",
            "projects.locations.keyRings.cryptoKeys.patch",
            {
                "name": ctx.target.uid,
                "updateMask": ",".join(ROTATION_FIELDS),
                "body": {k: v for k, v in to.items() if v is not None},
            },
            region="",
        )

    def apply(self, ctx: FixContext, before: dict[str, Any], after: dict[str, Any]) -> None:
        self._set(ctx, before, after)

    def restore(self, ctx: FixContext, before: dict[str, Any], current: dict[str, Any]) -> None:
        self._set(ctx, current, before)
