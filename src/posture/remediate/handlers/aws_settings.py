"""AWS fixes whose state needs shaping a template cannot express.

- ``aws.iam.password_policy``: the account password policy. UpdateAccountPasswordPolicy resets
  every parameter it is not given, so the state is the whole policy (its settable fields) and
  both apply and restore send all of it.
- ``aws.elbv2.load_balancer_attribute``: one Key/Value attribute of a load balancer
  (DescribeLoadBalancerAttributes answers all of them as text).
- ``aws.s3.bucket_policy_statement``: one statement, identified by its ``Sid``, added to a
  bucket policy and removed again (the rest of the policy is never touched).
"""

from __future__ import annotations

import json
from typing import Any

from posture.remediate.registry import FixContext, ProviderCallError, fix_handler

# the parameters UpdateAccountPasswordPolicy accepts (GetAccountPasswordPolicy also answers
# ExpirePasswords, which is derived from MaxPasswordAge)
PASSWORD_FIELDS = (
    "MinimumPasswordLength",
    "RequireSymbols",
    "RequireNumbers",
    "RequireUppercaseCharacters",
    "RequireLowercaseCharacters",
    "AllowUsersToChangePassword",
    "MaxPasswordAge",
    "PasswordReusePrevention",
    "HardExpiry",
)


def _global_region(ctx: FixContext) -> str:
    region = ctx.target.region
    return "us-east-1" if region in ("", "global") else region


@fix_handler("aws.iam.password_policy")
class PasswordPolicy:
    """The account password policy raised to ``params`` (lengths and counts never lowered)."""

    def read(self, ctx: FixContext) -> Any:
        try:
            answer = ctx.client.call(
                "iam", "get_account_password_policy", {}, region=_global_region(ctx)
            )
        except ProviderCallError as exc:
            if exc.code == "NoSuchEntity":
                return None
            raise
        policy = answer.get("PasswordPolicy", {})
        state = {key: policy[key] for key in PASSWORD_FIELDS if key in policy}
        if not state.get("MaxPasswordAge"):  # 0 or absent: passwords never expire
            state.pop("MaxPasswordAge", None)
        return state

    def desired(self, ctx: FixContext, before: Any) -> Any:
        params = ctx.fix.params
        # no policy yet: the one created lets users change their own password and never
        # locks them out on expiry (both read back, like every other parameter)
        after = dict(before or {"AllowUsersToChangePassword": True, "HardExpiry": False})
        for key in ("MinimumPasswordLength", "PasswordReusePrevention"):
            if key in params:
                after[key] = max(int(after.get(key) or 0), int(params[key]))
        for key in (
            "RequireSymbols",
            "RequireNumbers",
            "RequireUppercaseCharacters",
            "RequireLowercaseCharacters",
        ):
            if params.get(key):
                after[key] = True
        return after

    def apply(self, ctx: FixContext, before: Any, after: Any) -> None:
        ctx.client.call("iam", "update_account_password_policy", after, region=_global_region(ctx))

    def restore(self, ctx: FixContext, before: Any, current: Any) -> None:
        region = _global_region(ctx)
        if before is None:
            ctx.client.call("iam", "delete_account_password_policy", {}, region=region)
        else:
            ctx.client.call("iam", "update_account_password_policy", before, region=region)


@fix_handler("aws.elbv2.load_balancer_attribute")
class LoadBalancerAttribute:
    """``params.key`` set to ``params.value`` (text, as the API answers it)."""

    def read(self, ctx: FixContext) -> Any:
        answer = ctx.client.call(
            "elbv2",
            "describe_load_balancer_attributes",
            {"LoadBalancerArn": ctx.target.uid},
            region=ctx.target.region,
        )
        key = str(ctx.fix.params["key"])
        for attribute in answer.get("Attributes", []):
            if attribute.get("Key") == key:
                return attribute.get("Value")
        return None

    def desired(self, ctx: FixContext, before: Any) -> Any:
        return str(ctx.fix.params["value"])

    def _set(self, ctx: FixContext, value: str) -> None:
        ctx.client.call(
            "elbv2",
            "modify_load_balancer_attributes",
            {
                "LoadBalancerArn": ctx.target.uid,
                "Attributes": [{"Key": str(ctx.fix.params["key"]), "Value": value}],
            },
            region=ctx.target.region,
        )

    def apply(self, ctx: FixContext, before: Any, after: Any) -> None:
        self._set(ctx, str(after))

    def restore(self, ctx: FixContext, before: Any, current: Any) -> None:
        if before is None:
            raise ProviderCallError(
                f"the load balancer had no attribute {ctx.fix.params['key']} to restore",
                code="NothingToRestore",
            )
        self._set(ctx, str(before))


@fix_handler("aws.s3.bucket_policy_statement")
class BucketPolicyStatement:
    """The bucket policy with ``params.statement`` (templated on the bucket name) added.

    The state is the parsed policy document, or null when the bucket has none. Restoring
    puts the exact earlier document back, or deletes the policy when there was none.
    """

    def read(self, ctx: FixContext) -> Any:
        try:
            answer = ctx.client.call(
                "s3", "get_bucket_policy", {"Bucket": ctx.target.name}, region=ctx.target.region
            )
        except ProviderCallError as exc:
            if exc.code == "NoSuchBucketPolicy":
                return None
            raise
        return json.loads(answer.get("Policy") or "null")

    def _statement(self, ctx: FixContext) -> dict[str, Any]:
        text = json.dumps(ctx.fix.params["statement"]).replace("{bucket}", ctx.target.name)
        statement: dict[str, Any] = json.loads(text)
        return statement

    def desired(self, ctx: FixContext, before: Any) -> Any:
        statement = self._statement(ctx)
        document = dict(before or {"Version": "2012-10-17", "Statement": []})
        kept = [
            s
            for s in _statements(document)
            if not (isinstance(s, dict) and s.get("Sid") == statement["Sid"])
        ]
        document["Statement"] = [*kept, statement]
        return document

    def _put(self, ctx: FixContext, document: Any) -> None:
        ctx.client.call(
            "s3",
            "put_bucket_policy",
            {"Bucket": ctx.target.name, "Policy": json.dumps(document)},
            region=ctx.target.region,
        )

    def apply(self, ctx: FixContext, before: Any, after: Any) -> None:
        self._put(ctx, after)

    def restore(self, ctx: FixContext, before: Any, current: Any) -> None:
        if before is None:
            ctx.client.call(
                "s3", "delete_bucket_policy", {"Bucket": ctx.target.name}, region=ctx.target.region
            )
        else:
            self._put(ctx, before)


def _statements(document: dict[str, Any]) -> list[Any]:
    statements = document.get("Statement", [])
    return list(statements) if isinstance(statements, list) else [statements]
