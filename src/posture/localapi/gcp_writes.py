"""The documented write methods the local Google Cloud server answers, for setting repair.

Each writer changes the data ``posture.localapi.gcp`` serves, so a later read (the list a
scan makes, or the get a fix makes) sees the change. A resource may be held twice (an item
of a list and the answer of its get): both are changed. Preconditions behave as Google
documents them: Cloud Storage ``ifMetagenerationMatch`` and a bucket policy's ``etag`` answer
412 ``conditionNotMet``; a Compute Engine metadata ``fingerprint`` that is not the current one
answers 412 ``conditionNotMet``; a Cloud KMS policy ``etag`` that is not the current one
answers 409 ``ABORTED``. Compute Engine and Cloud SQL answer an ``Operation`` (already
``DONE``: the change is made before the answer), which ``*.get`` and ``*.wait`` return again.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from posture.localapi.gcp import Answer, FakeGcp

# the permission each write needs (what a 403 names when the caller may only read)
PERMISSIONS = {
    "storage.v1 buckets.patch": "storage.buckets.update",
    "storage.v1 buckets.setIamPolicy": "storage.buckets.setIamPolicy",
    "compute.v1 firewalls.patch": "compute.firewalls.update",
    "compute.v1 projects.setCommonInstanceMetadata": "compute.projects.setCommonInstanceMetadata",
    "compute.v1 instances.setMetadata": "compute.instances.setMetadata",
    "sqladmin.v1beta4 instances.patch": "cloudsql.instances.update",
    "cloudkms.v1 projects.locations.keyRings.cryptoKeys.patch": "cloudkms.cryptoKeys.update",
    "cloudkms.v1 projects.locations.keyRings.cryptoKeys.setIamPolicy": (
        "cloudkms.cryptoKeys.setIamPolicy"
    ),
}
# operations answered from what a write stored
OPERATION_READS = (
    "compute.v1 globalOperations.get",
    "compute.v1 globalOperations.wait",
    "compute.v1 zoneOperations.get",
    "compute.v1 zoneOperations.wait",
    "sqladmin.v1beta4 operations.get",
)
OPERATION_KINDS = ("compute#operation", "sql#operation")
SCOPED = re.compile(r"^(compute/v1/projects/[^/]+)/(zones/[^/]+|regions/[^/]+|global)/([^/]+)$")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _tag(value: Any) -> str:
    digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Patch semantics: mappings merge, a null removes the field, anything else replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _holders(fake: FakeGcp) -> Iterator[dict[str, Any]]:
    for project in fake.projects.values():
        yield project.collections
    for org in fake.organizations.values():
        yield org.collections


def copies(fake: FakeGcp, path: str) -> list[dict[str, Any]]:
    """Every stored copy of the resource at ``path``: the answer of its get and the item of
    the list (or aggregated list) it belongs to."""
    parent, _, last = path.rpartition("/")
    out: list[dict[str, Any]] = []
    scoped = SCOPED.match(parent)
    for holder in _holders(fake):
        if isinstance(holder.get(path), dict):
            out.append(holder[path])
        for key, value in holder.items():
            items: list[Any] = []
            if isinstance(value, list) and (key == parent or key.startswith(parent + "?")):
                items = value
            elif (
                scoped
                and isinstance(value, dict)
                and key == (f"{scoped.group(1)}/aggregated/{scoped.group(3)}")
            ):
                items = list((value.get(scoped.group(2)) or {}).get(scoped.group(3)) or [])
            for item in items:
                if isinstance(item, dict) and _names(item, path, last):
                    out.append(item)
    return out


def _names(item: dict[str, Any], path: str, last: str) -> bool:
    name = str(item.get("name") or "")
    return name == last or (bool(name) and path.endswith("/" + name))


def _storage_error(code: int, message: str, reason: str) -> dict[str, Any]:
    """Cloud Storage's JSON API error body (it carries no ``status``)."""
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


def _error(code: int, message: str, status: str, reason: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "status": status,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


def _missing(path: str) -> Answer:
    return 404, {}, _error(404, f"The resource '{path}' was not found", "NOT_FOUND", "notFound")


Writer = Callable[["FakeGcp", str, dict[str, list[str]], dict[str, Any]], "Answer"]


def _bucket_patch(
    fake: FakeGcp, path: str, query: dict[str, list[str]], body: dict[str, Any]
) -> Answer:
    found = copies(fake, path)
    if not found:
        return 404, {}, _storage_error(404, "The specified bucket does not exist.", "notFound")
    current = str(found[0].get("metageneration") or "1")
    wanted = query.get("ifMetagenerationMatch")
    if wanted and wanted[0] != current:
        return 412, {}, _storage_error(412, "Precondition Failed", "conditionNotMet")
    change = copy.deepcopy(body)
    uniform = ((change.get("iamConfiguration") or {}).get("uniformBucketLevelAccess")) or {}
    if "enabled" in uniform:  # bucketPolicyOnly is the older name of the same switch
        locked = (datetime.now(UTC) + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        uniform["lockedTime"] = locked if uniform["enabled"] else None
        change["iamConfiguration"]["bucketPolicyOnly"] = dict(uniform)
    for item in found:
        merge(item, change)
        item["metageneration"] = str(int(current) + 1)
        item["updated"] = _now()
    return 200, {}, copy.deepcopy(found[0])


def _bucket_set_iam(
    fake: FakeGcp, path: str, query: dict[str, list[str]], body: dict[str, Any]
) -> Answer:
    bucket = path.removesuffix("/iam")
    if not copies(fake, bucket):
        return 404, {}, _storage_error(404, "The specified bucket does not exist.", "notFound")
    holder = next((h for h in _holders(fake) if path in h), None)
    if holder is None:
        holder = next(h for h in _holders(fake) if any(k.startswith("storage/v1/b") for k in h))
        holder[path] = {"kind": "storage#policy", "version": 1, "etag": "CAE=", "bindings": []}
    current = holder[path]
    if body.get("etag") and body["etag"] != current.get("etag"):
        return 412, {}, _storage_error(412, "Precondition Failed", "conditionNotMet")
    policy = {
        "kind": "storage#policy",
        "resourceId": f"projects/_/buckets/{bucket.rpartition('/')[2]}",
        "version": body.get("version") or 1,
        "bindings": copy.deepcopy(body.get("bindings") or []),
    }
    policy["etag"] = _tag([policy, current.get("etag")])
    holder[path] = policy
    return 200, {}, copy.deepcopy(policy)


def _operation(
    fake: FakeGcp, project_path: str, scope: str, kind: str, target: str
) -> dict[str, Any]:
    """A finished Compute Engine operation, stored so that ``*Operations.get`` finds it."""
    name = f"operation-{len(fake.requests)}-{_tag(target)[:6].lower()}"
    link = f"{fake.base_url}{project_path}/{scope}/operations/{name}"
    op = {
        "kind": "compute#operation",
        "id": str(abs(hash(name)) % 10**18),
        "name": name,
        "operationType": kind,
        "targetLink": f"{fake.base_url}{target}",
        "status": "DONE",
        "progress": 100,
        "insertTime": _now(),
        "startTime": _now(),
        "endTime": _now(),
        "selfLink": link,
    }
    if scope.startswith("zones/"):
        op["zone"] = f"{fake.base_url}{project_path}/{scope}"
    _store(fake, f"{project_path}/{scope}/operations/{name}", op)
    return op


def _store(fake: FakeGcp, path: str, value: dict[str, Any]) -> None:
    project = fake._project_of(path)
    if project is not None:
        project.collections[path] = value


def _firewall_patch(
    fake: FakeGcp, path: str, query: dict[str, list[str]], body: dict[str, Any]
) -> Answer:
    found = copies(fake, path)
    if not found:
        return _missing(path)
    change = {k: v for k, v in body.items() if k not in ("name", "selfLink", "id", "kind")}
    for item in found:
        merge(item, change)
    project_path = path.split("/global/")[0]
    return 200, {}, _operation(fake, project_path, "global", "patch", path)


def _metadata_write(found: dict[str, Any], body: dict[str, Any]) -> Answer | None:
    """Replace ``found`` (a Metadata) with ``body`` unless its fingerprint is stale."""
    if body.get("fingerprint") != found.get("fingerprint"):
        message = "Supplied fingerprint does not match current metadata fingerprint."
        return 412, {}, _error(412, message, "FAILED_PRECONDITION", "conditionNotMet")
    items = copy.deepcopy(body.get("items") or [])
    found.clear()
    found.update({"kind": "compute#metadata", "fingerprint": _tag(items), "items": items})
    return None


def _project_metadata(
    fake: FakeGcp, path: str, query: dict[str, list[str]], body: dict[str, Any]
) -> Answer:
    project_path = path.removesuffix("/setCommonInstanceMetadata")
    found = copies(fake, project_path)
    if not found:
        return _missing(project_path)
    for record in found:
        metadata = record.setdefault("commonInstanceMetadata", {"kind": "compute#metadata"})
        metadata.setdefault("fingerprint", _tag(metadata.get("items") or []))
    refused = _metadata_write(found[0]["commonInstanceMetadata"], body)
    if refused:
        return refused
    for record in found[1:]:
        record["commonInstanceMetadata"] = copy.deepcopy(found[0]["commonInstanceMetadata"])
    return 200, {}, _operation(fake, project_path, "global", "setMetadata", project_path)


def _instance_metadata(
    fake: FakeGcp, path: str, query: dict[str, list[str]], body: dict[str, Any]
) -> Answer:
    instance = path.removesuffix("/setMetadata")
    found = copies(fake, instance)
    if not found:
        return _missing(instance)
    for record in found:
        metadata = record.setdefault("metadata", {"kind": "compute#metadata"})
        metadata.setdefault("fingerprint", _tag(metadata.get("items") or []))
    refused = _metadata_write(found[0]["metadata"], body)
    if refused:
        return refused
    for record in found[1:]:
        record["metadata"] = copy.deepcopy(found[0]["metadata"])
    project_path, _, rest = instance.partition("/zones/")
    zone = "zones/" + rest.split("/")[0]
    return 200, {}, _operation(fake, project_path, zone, "setMetadata", instance)


def _sql_patch(
    fake: FakeGcp, path: str, query: dict[str, list[str]], body: dict[str, Any]
) -> Answer:
    found = copies(fake, path)
    if not found:
        message = "The Cloud SQL instance does not exist."
        return 404, {}, _error(404, message, "NOT_FOUND", "instanceDoesNotExist")
    change = copy.deepcopy(body)
    change.get("settings", {}).pop("settingsVersion", None)
    for item in found:
        merge(item, change)
        settings = item.setdefault("settings", {})
        settings["settingsVersion"] = str(int(settings.get("settingsVersion") or 1) + 1)
    project_path, _, name = path.rpartition("/instances/")
    op_name = f"{len(fake.requests):08d}-{_tag(path)[:8].lower()}"
    op = {
        "kind": "sql#operation",
        "name": op_name,
        "operationType": "UPDATE",
        "status": "DONE",
        "targetId": name,
        "targetProject": project_path.rpartition("/")[2],
        "targetLink": f"{fake.base_url}{path}",
        "insertTime": _now(),
        "startTime": _now(),
        "endTime": _now(),
        "selfLink": f"{fake.base_url}{project_path}/operations/{op_name}",
    }
    _store(fake, f"{project_path}/operations/{op_name}", op)
    return 200, {}, op


def _key_patch(
    fake: FakeGcp, path: str, query: dict[str, list[str]], body: dict[str, Any]
) -> Answer:
    mask = [m for m in ",".join(query.get("updateMask") or []).split(",") if m]
    if not mask:
        message = "The request must specify an update_mask."
        return 400, {}, _error(400, message, "INVALID_ARGUMENT", "badRequest")
    found = copies(fake, path)
    if not found:
        return _missing(path)
    for item in found:
        for field in mask:
            if body.get(field) is None:
                item.pop(field, None)
            else:
                item[field] = copy.deepcopy(body[field])
    return 200, {}, copy.deepcopy(found[0])


def _key_set_iam(
    fake: FakeGcp, path: str, query: dict[str, list[str]], body: dict[str, Any]
) -> Answer:
    key = path.removesuffix(":setIamPolicy")
    if not copies(fake, key):
        return _missing(key)
    read = key + ":getIamPolicy"
    holder = next((h for h in _holders(fake) if read in h), None)
    if holder is None:
        holder = next(iter(_holders(fake)))
        holder[read] = {"version": 1, "etag": "BwAA"}
    sent = body.get("policy") or {}
    if sent.get("etag") and sent["etag"] != holder[read].get("etag"):
        message = "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff."
        return 409, {}, _error(409, message, "ABORTED", "aborted")
    policy = {"version": sent.get("version") or 1, "bindings": copy.deepcopy(sent.get("bindings"))}
    policy["etag"] = _tag([policy, holder[read].get("etag")])
    holder[read] = policy
    return 200, {}, copy.deepcopy(policy)


WRITERS: dict[str, Writer] = {
    "storage.v1 buckets.patch": _bucket_patch,
    "storage.v1 buckets.setIamPolicy": _bucket_set_iam,
    "compute.v1 firewalls.patch": _firewall_patch,
    "compute.v1 projects.setCommonInstanceMetadata": _project_metadata,
    "compute.v1 instances.setMetadata": _instance_metadata,
    "sqladmin.v1beta4 instances.patch": _sql_patch,
    "cloudkms.v1 projects.locations.keyRings.cryptoKeys.patch": _key_patch,
    "cloudkms.v1 projects.locations.keyRings.cryptoKeys.setIamPolicy": _key_set_iam,
}


def failed_operation(fake: FakeGcp, path: str, code: str, message: str) -> dict[str, Any]:
    """The Operation of a write that failed after it was accepted: DONE, with ``error``."""
    error = {"errors": [{"code": code, "message": message}]}
    if path.startswith("sql/"):
        project_path = path.split("/instances/")[0]
        name = f"{len(fake.requests):08d}-failed"
        op: dict[str, Any] = {
            "kind": "sql#operation",
            "name": name,
            "operationType": "UPDATE",
            "status": "DONE",
            "targetProject": project_path.rpartition("/")[2],
            "targetLink": f"{fake.base_url}{path}",
            "error": {"kind": "sql#operationErrors", **error},
            "selfLink": f"{fake.base_url}{project_path}/operations/{name}",
        }
        _store(fake, f"{project_path}/operations/{name}", op)
        return op
    parts = path.split("/")
    project_path = "/".join(parts[:4])  # compute/v1/projects/P
    scope = f"zones/{parts[parts.index('zones') + 1]}" if "zones" in parts else "global"
    op = _operation(fake, project_path, scope, "update", path)
    op["error"] = error
    op["httpErrorStatusCode"] = 400
    return op


def operation_read(fake: FakeGcp, path: str) -> Answer:
    """``*Operations.get`` / ``.wait`` and Cloud SQL ``operations.get``."""
    found = fake._data_at(path.removesuffix("/wait"))
    if not isinstance(found, dict):
        return _missing(path)
    return 200, {}, copy.deepcopy(found)
