"""IAM: risky users, admin policies (managed and inline) and a weak password policy, with
clean twins."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from posture.demo.clients import DEFAULT_ACCOUNT_ID, register_account_header
from posture.demo.common import (
    COMPANY,
    HOSTILE_MARKUP,
    PlantContext,
    error_code,
    policy_json,
    suffix,
    tags,
)
from posture.demo.manifest import Planted, Verdict

USER, REPORT = "aws.iam.user", "aws.iam.credential_report"
POLICY, ACCOUNT = "aws.iam.policy", "aws.iam.account"
INLINE = "aws.iam.inline_policy"
#: Users carrying this tag get old credentials from :func:`posture.demo.estate.backdate_iam`.
BACKDATE_TAG = "posture-demo:backdate"
SUPPORT_POLICY_ARN = "arn:aws:iam::aws:policy/AWSSupportAccess"
INSTANCE_PROFILE = f"{COMPANY}-app-server"
DEVELOPERS_GROUP, BATCH_GROUP = f"{COMPANY}-developers", f"{COMPANY}-batch-jobs"
OPS_ADMINS_GROUP, DEPLOY_ROLE = f"{COMPANY}-ops-admins", f"{COMPANY}-deploy-pipeline"
#: The access key planted with a console user is never used; its twin's key is used once.
SETUP_KEY_USER = "kobayashi.mei"
ADMIN_POLICY, BILLING_POLICY = f"{COMPANY}-breakglass-admin", f"{COMPANY}-billing-readonly"
CONSOLE_PASSWORD = "Demo-Only-Passw0rd!2024"  # a planted demo credential, not a secret

#: Customer managed policies: (name, Action, Resource, verdict for 2.14, attached to).
POLICIES: tuple[tuple[str, Any, Any, Verdict, str], ...] = (
    (ADMIN_POLICY, "*", "*", "bad", "a user, directly"),
    (BILLING_POLICY, ["ce:Get*", "budgets:View*"], "*", "good", "a user, directly"),
    (
        f"{COMPANY}-developers-access",
        ["s3:GetObject", "s3:ListBucket"],
        f"arn:aws:s3:::{COMPANY}-web-assets-private-*",
        "good",
        DEVELOPERS_GROUP,
    ),
    (
        f"{COMPANY}-batch-jobs-access",
        "s3:PutObject",
        f"arn:aws:s3:::{COMPANY}-payroll-vault-*/*",
        "good",
        BATCH_GROUP,
    ),
)


@dataclass
class IamFoundation:
    """Account-wide IAM objects the per-user planters attach to."""

    planted: Planted = field(default_factory=Planted)
    policy_arns: dict[str, str] = field(default_factory=dict)


def _plant_policies_and_groups(ctx: PlantContext, base: IamFoundation) -> None:
    iam = ctx.client("iam", ctx.primary)
    for name, action, resource, verdict, attached_to in POLICIES:
        document = policy_json({"Effect": "Allow", "Action": action, "Resource": resource})
        arn = iam.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"]
        base.policy_arns[name] = arn
        if attached_to in (DEVELOPERS_GROUP, BATCH_GROUP):
            iam.create_group(GroupName=attached_to)
            iam.attach_group_policy(GroupName=attached_to, PolicyArn=arn)
        base.planted.add(
            POLICY,
            name,
            verdict,
            ["2.14"],
            note=f"Action {action!r} on {resource!r}, attached to {attached_to}",
        )


def _plant_password_policy(ctx: PlantContext, base: IamFoundation) -> None:
    ctx.client("iam", ctx.primary).update_account_password_policy(
        MinimumPasswordLength=8, PasswordReusePrevention=1, RequireNumbers=True
    )
    note = "password policy: minimum length 8, reuse prevention 1"
    base.planted.add(ACCOUNT, ctx.account_id, "bad", ["2.8", "2.9"], note=note)


def _plant_support_role(ctx: PlantContext, base: IamFoundation) -> None:
    """A role with AWSSupportAccess (2.15); needs moto's AWS managed policies loaded."""
    iam = ctx.client("iam", ctx.primary)
    support = f"{COMPANY}-aws-support"
    trust = policy_json(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ctx.account_id}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    iam.create_role(RoleName=support, AssumeRolePolicyDocument=trust)
    try:
        iam.attach_role_policy(RoleName=support, PolicyArn=SUPPORT_POLICY_ARN)
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        base.planted.gaps.append(
            "2.15 support role: this moto server has no AWS managed policies, so "
            "AWSSupportAccess cannot be attached (start moto with "
            "MOTO_IAM_LOAD_MANAGED_POLICIES=true); the role exists without it."
        )
        base.planted.add(ACCOUNT, ctx.account_id, "bad", ["2.15"], note="no AWSSupportAccess")
        return
    base.planted.add(ACCOUNT, ctx.account_id, "good", ["2.15"], note=f"role {support}")


def _plant_instance_profile(ctx: PlantContext) -> None:
    iam = ctx.client("iam", ctx.primary)
    trust = policy_json(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    iam.create_role(RoleName=INSTANCE_PROFILE, AssumeRolePolicyDocument=trust)
    iam.create_instance_profile(InstanceProfileName=INSTANCE_PROFILE)
    iam.add_role_to_instance_profile(
        InstanceProfileName=INSTANCE_PROFILE, RoleName=INSTANCE_PROFILE
    )


def _put_inline(iam: Any, kind: str, principal: str, policy: str, statement: Any) -> None:
    """``put_user_policy`` / ``put_group_policy`` / ``put_role_policy`` with one statement."""
    call = getattr(iam, f"put_{kind}_policy")
    key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
    call(**{key: principal, "PolicyName": policy, "PolicyDocument": policy_json(statement)})


def _plant_inline_admin_policies(ctx: PlantContext, base: IamFoundation) -> None:
    """Inline administrator grants on a group and a role (2.14), each with a scoped twin.

    The group's grant is the plain "*" on "*"; the role's is the NotAction form (everything
    but IAM and Organizations), which is administrator access under another name.
    """
    iam = ctx.client("iam", ctx.primary)
    iam.create_group(GroupName=OPS_ADMINS_GROUP)
    _put_inline(
        iam,
        "group",
        OPS_ADMINS_GROUP,
        "ops-full-access",
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    )
    trust = policy_json(
        {
            "Effect": "Allow",
            "Principal": {"Service": "codebuild.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    iam.create_role(RoleName=DEPLOY_ROLE, AssumeRolePolicyDocument=trust)
    _put_inline(
        iam,
        "role",
        DEPLOY_ROLE,
        "deploy-everything",
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"},
    )
    # twins: scoped inline grants on an existing group and the instance role
    _put_inline(
        iam,
        "group",
        DEVELOPERS_GROUP,
        "developers-read-logs",
        {"Effect": "Allow", "Action": ["logs:Get*", "logs:FilterLogEvents"], "Resource": "*"},
    )
    _put_inline(
        iam,
        "role",
        INSTANCE_PROFILE,
        "app-server-assets",
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{COMPANY}-web-assets-private-*/*",
        },
    )
    planted = base.planted
    planted.add(
        INLINE,
        f"{OPS_ADMINS_GROUP}/ops-full-access",
        "bad",
        ["2.14"],
        note="inline Action * on Resource * on a group",
    )
    planted.add(
        INLINE,
        f"{DEPLOY_ROLE}/deploy-everything",
        "bad",
        ["2.14"],
        note="inline NotAction iam:*, organizations:* on Resource * on a role",
    )
    planted.add(
        INLINE,
        f"{DEVELOPERS_GROUP}/developers-read-logs",
        "good",
        ["2.14"],
        note="inline read-only logs access on a group",
    )
    planted.add(
        INLINE,
        f"{INSTANCE_PROFILE}/app-server-assets",
        "good",
        ["2.14"],
        note="inline s3:GetObject on one bucket prefix on a role",
    )


def plant_iam_foundation(ctx: PlantContext) -> IamFoundation:
    """Policies, groups, the password policy, the support role and the instance profile."""
    base = IamFoundation()
    _plant_policies_and_groups(ctx, base)
    _plant_password_policy(ctx, base)
    _plant_support_role(ctx, base)
    _plant_instance_profile(ctx)
    _plant_inline_admin_policies(ctx, base)
    return base


def _create_user(iam: Any, name: str, *, stale: bool = False, **tag_pairs: str) -> None:
    if stale:
        tag_pairs[BACKDATE_TAG] = "stale"
    iam.create_user(UserName=name, Tags=tags(**tag_pairs))


def _plant_console_users(ctx: PlantContext, base: IamFoundation, tail: str) -> Planted:
    """Console users without MFA, with policies attached directly (one of them admin)."""
    iam = ctx.client("iam", ctx.primary)
    planted = Planted()
    for user, policy, stale, department in (
        (f"tanaka.hiroshi{tail}", BILLING_POLICY, True, HOSTILE_MARKUP),
        (f"sato.yuki{tail}", ADMIN_POLICY, False, "情報システム部"),
    ):
        _create_user(iam, user, stale=stale, Department=department)
        iam.create_login_profile(UserName=user, Password=CONSOLE_PASSWORD)
        iam.attach_user_policy(UserName=user, PolicyArn=base.policy_arns[policy])
        planted.add(USER, user, "bad", ["2.13"], note=f"{policy} attached directly")
        planted.add(REPORT, user, "bad", ["2.10"], note="console password, no MFA")
        if policy == ADMIN_POLICY:
            _put_inline(
                iam,
                "user",
                user,
                "emergency-full-access",
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
            )
            planted.add(
                INLINE,
                f"{user}/emergency-full-access",
                "bad",
                ["2.14"],
                note="inline Action * on Resource * on a user",
            )
        if stale:
            note = "password last used 100 days ago"
            planted.add(REPORT, user, "bad", ["2.11"], note=note, requires="backdate_iam")
    return planted


def _plant_stale_service_user(ctx: PlantContext, tail: str) -> Planted:
    """A service user with an inline policy and two keys that :func:`backdate_iam` ages."""
    iam = ctx.client("iam", ctx.primary)
    service = f"batch-etl-svc{tail}"
    _create_user(iam, service, stale=True, Department="data-platform")
    document = policy_json({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    iam.put_user_policy(UserName=service, PolicyName="etl-inline", PolicyDocument=document)
    for _ in range(2):
        iam.create_access_key(UserName=service)
    planted = Planted()
    planted.add(USER, service, "bad", ["2.13"], note="inline policy etl-inline")
    planted.add(
        INLINE,
        f"{service}/etl-inline",
        "good",
        ["2.14"],
        note="inline s3:* on Resource *: broad, but not administrator",
    )
    note = "two active keys, created 200 days ago, last used 100 days ago"
    planted.add(REPORT, service, "bad", ["2.11", "2.12"], note=note, requires="backdate_iam")
    return planted


def _plant_good_users(ctx: PlantContext, tail: str) -> Planted:
    """Group-only permissions; a person with console password and MFA, a service user."""
    iam = ctx.client("iam", ctx.primary)
    person, service = f"yamada.taro{tail}", f"batch-etl-svc-v2{tail}"
    _create_user(iam, person, Department="開発部")
    iam.add_user_to_group(GroupName=DEVELOPERS_GROUP, UserName=person)
    iam.create_login_profile(UserName=person, Password=CONSOLE_PASSWORD)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=person)["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName=person,
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    _create_user(iam, service, Department="data-platform")
    iam.add_user_to_group(GroupName=BATCH_GROUP, UserName=service)
    for user in (person, service):
        key = iam.create_access_key(UserName=user)["AccessKey"]
        if user == person:
            _use_access_key(ctx, key)  # a key made at set-up that is in use: the twin
    planted = Planted()
    planted.add(USER, person, "good", ["2.13"], note=f"permissions only via {DEVELOPERS_GROUP}")
    planted.add(USER, service, "good", ["2.13"], note=f"permissions only via {BATCH_GROUP}")
    planted.add(REPORT, person, "good", ["2.10", "2.11", "2.12"], note="MFA, one fresh key")
    planted.add(REPORT, service, "good", ["2.11", "2.12"], note="one fresh key")
    return planted


def _use_access_key(ctx: PlantContext, key: dict[str, Any]) -> None:
    """Sign one request with ``key``: moto then reports it as used, as AWS would."""
    session = boto3.session.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    if ctx.account_id != DEFAULT_ACCOUNT_ID:
        register_account_header(session, ctx.account_id)
    sts = session.client("sts", region_name=ctx.primary, endpoint_url=ctx.clients.endpoint_url)
    sts.get_caller_identity()


def _plant_setup_key_user(ctx: PlantContext, tail: str) -> Planted:
    """A console user (with MFA, group permissions) given an access key at set-up, unused.

    Its twin is yamada.taro, whose key was also created with the user but is in use.
    """
    iam = ctx.client("iam", ctx.primary)
    user = f"{SETUP_KEY_USER}{tail}"
    _create_user(iam, user, Department="営業部")
    iam.add_user_to_group(GroupName=DEVELOPERS_GROUP, UserName=user)
    iam.create_login_profile(UserName=user, Password=CONSOLE_PASSWORD)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName=user,
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.create_access_key(UserName=user)
    planted = Planted()
    planted.add(USER, user, "good", ["2.13"], note=f"permissions only via {DEVELOPERS_GROUP}")
    note = "MFA; one fresh key created with the user and never used"
    planted.add(REPORT, user, "good", ["2.10", "2.11", "2.12"], note=note)
    return planted


def plant_user_set(ctx: PlantContext, base: IamFoundation, index: int) -> Planted:
    """Four risky users and two clean twins; ``index`` numbers the copy when scaled."""
    tail = suffix(index, ctx.scale)
    planted = _plant_console_users(ctx, base, tail)
    planted.merge(_plant_stale_service_user(ctx, tail))
    planted.merge(_plant_good_users(ctx, tail))
    planted.merge(_plant_setup_key_user(ctx, tail))
    return planted
