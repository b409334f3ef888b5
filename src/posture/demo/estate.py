"""Plant a deliberately misconfigured AWS estate, with a correct twin of each mistake.

``plant_estate`` talks to a moto server only through boto3, so it works against a separate
``moto_server`` process as well as an in-process ``moto.server.ThreadedMotoServer``. The
returned :class:`EstateManifest` says, per scanner resource, which CIS AWS v7.0 controls it
exercises and whether it should fail ("bad") or pass ("good") them.

Two things moto cannot do through its API are done by reaching into its backends, and are
therefore only valid when moto runs in the *same* Python process (``ThreadedMotoServer`` or
``mock_aws``): :func:`backdate_iam` ages credentials, :func:`settle_config_recorders` lets
a started Config recorder report a successful delivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from posture.demo.clients import DEFAULT_ACCOUNT_ID, EstateClients, moto_control
from posture.demo.common import PlantContext
from posture.demo.estate_audit import (
    plant_analyzer_and_contact,
    plant_cloudtrail,
    plant_config,
    plant_security_hub,
)
from posture.demo.estate_compute import plant_ebs, plant_instances
from posture.demo.estate_containers import plant_clusters, plant_repositories
from posture.demo.estate_data import plant_efs, plant_kms, plant_rds
from posture.demo.estate_edge import plant_edge
from posture.demo.estate_iam import (
    BACKDATE_TAG,
    IamFoundation,
    plant_iam_foundation,
    plant_user_set,
)
from posture.demo.estate_network import (
    RegionNetwork,
    plant_network_acls,
    plant_security_group_set,
    plant_vpc_peering,
    plant_vpcs,
    record_default_vpc,
)
from posture.demo.estate_s3 import (
    plant_public_acl_pair,
    plant_public_policy_pair,
    record_account_settings,
)
from posture.demo.manifest import EstateManifest, Planted

if TYPE_CHECKING:
    from moto.iam.models import User

Task = Callable[[], Planted]
HOME_REGION = "ap-northeast-1"  # where the aged keys were "last used"

STANDING_GAPS = (
    "Root user controls (2.4-2.7) cannot be steered: moto has no root user; "
    "GetAccountSummary always reports AccountMFAEnabled 0 and AccountAccessKeysPresent 0, "
    "and the credential report has no <root_account> row.",
    "Macie (3.1.3): moto reports every region as ENABLED, so no failing side exists.",
    "Not planted: Organizations (2.1.x), security contact (2.3), server certificates (2.17), "
    "CloudShell access (2.20), CloudWatch metric filters and alarms (5.1-5.15), VPC "
    "endpoints (6.8); absent things simply fail or pass as moto reports.",
)


def _audit(ctx: PlantContext) -> Planted:
    """CloudTrail before Config: the Config delivery channel writes to the trail bucket."""
    planted = plant_cloudtrail(ctx)
    planted.merge(plant_config(ctx))
    planted.merge(plant_security_hub(ctx))
    planted.merge(plant_analyzer_and_contact(ctx))
    return planted


def _tasks(ctx: PlantContext, base: IamFoundation, nets: Sequence[RegionNetwork]) -> list[Task]:
    """Independent units of work once IAM and the VPCs exist; slow ones first."""
    tasks: list[Task] = [partial(_audit, ctx), partial(record_account_settings, ctx)]
    tasks += [partial(plant_repositories, ctx), partial(plant_clusters, ctx)]
    tasks.append(partial(plant_edge, ctx, nets[0]))  # web front ends, messaging, data services
    for net in nets:
        region = net.region
        tasks += [partial(plant_rds, ctx, region), partial(plant_instances, ctx, net)]
        tasks += [partial(plant, ctx, region) for plant in (plant_kms, plant_efs, plant_ebs)]
        tasks += [partial(plant_network_acls, ctx, net), partial(record_default_vpc, ctx, region)]
        tasks.append(partial(plant_vpc_peering, ctx, net))
    for index in range(ctx.scale):
        tasks.append(partial(plant_user_set, ctx, base, index))
        for net in nets:
            tasks.append(partial(plant_security_group_set, ctx, net, index))
            tasks.append(partial(plant_public_acl_pair, ctx, net.region, index))
            tasks.append(partial(plant_public_policy_pair, ctx, net.region, index))
    return tasks


def plant_estate(
    endpoint_url: str,
    *,
    regions: Sequence[str],
    scale: int = 1,
    account_id: str = DEFAULT_ACCOUNT_ID,
    max_workers: int = 8,
    seed: int | None = None,
) -> EstateManifest:
    """Plant the demo estate into an empty moto account at ``endpoint_url`` (dummy keys).

    ``regions[0]`` is the home region: the trails, the only Config recorder and the only
    Security Hub live there, and EBS encryption by default stays off there only.
    ``scale`` multiplies buckets, users, security groups and instances, bad and good alike.
    A non-default ``account_id`` is sent to moto in the ``x-moto-account-id`` header.

    With ``seed``, moto's random source is seeded first and the calls are made one after
    another (``max_workers`` is ignored), so the same seed on a freshly reset moto gives the
    same ids every time: security groups, VPCs, subnets, NACLs, instances, volumes, KMS keys,
    file systems, access keys. Parallel planting would draw from that one random source in
    whatever order the threads happen to run.
    """
    if not regions or scale < 1:
        raise ValueError("plant_estate needs at least one region and scale >= 1")
    if seed is not None:
        moto_control(endpoint_url, "seed", a=str(seed))
        max_workers = 1
    started = time.monotonic()
    ctx = PlantContext(
        EstateClients(endpoint_url, account_id), tuple(dict.fromkeys(regions)), scale
    )
    planted = Planted(gaps=list(STANDING_GAPS))
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="plant") as pool:
        iam_future = pool.submit(plant_iam_foundation, ctx)
        nets = list(pool.map(partial(plant_vpcs, ctx), ctx.regions))
        base = iam_future.result()
        for part in (base.planted, *(net.planted for net in nets)):
            planted.merge(part)
        for result in pool.map(lambda task: task(), _tasks(ctx, base, nets)):
            planted.merge(result)
    return EstateManifest(
        endpoint_url=endpoint_url,
        account_id=account_id,
        regions=ctx.regions,
        scale=scale,
        resources=planted.resources,
        gaps=planted.gaps,
        elapsed_seconds=round(time.monotonic() - started, 3),
    )


def _age(user: User, now: datetime, *, key_age: int, unused: int, user_age: int) -> None:
    """Rewrite the dates of one moto ``User`` (naive UTC, as moto stores them)."""
    from moto.iam.models import AccessKeyLastUsed

    last_used = now - timedelta(days=unused)
    user.create_date = now - timedelta(days=user_age)
    if user.password:
        user.password_last_used = last_used  # type: ignore[assignment]  # moto types it None
    for key in user.access_keys:
        key.create_date = now - timedelta(days=key_age)
        key.last_used = AccessKeyLastUsed(timestamp=last_used, service="s3", region=HOME_REGION)


def backdate_iam(
    account_id: str = DEFAULT_ACCOUNT_ID,
    *,
    key_age_days: int = 200,
    unused_days: int = 100,
    user_age_days: int = 400,
    partition: str = "aws",
    now: datetime | None = None,
) -> list[str]:
    """Age the credentials of the users planted as stale; return their names.

    Only valid when moto runs in the SAME process as the caller (``ThreadedMotoServer`` or
    ``mock_aws``): it edits moto's IAM backend directly, because the AWS API cannot create
    old users or keys. For each user tagged ``posture-demo:backdate`` it sets the fields the
    credential report and the IAM responses are built from: ``User.create_date``
    (user_creation_time, password_last_changed), ``User.password_last_used``,
    ``AccessKey.create_date`` (access_key_N_last_rotated, ListAccessKeys) and
    ``AccessKey.last_used`` (access_key_N_last_used_date, GetAccessKeyLastUsed). So 2.11
    (unused for 45 days) and 2.12 (rotated within 90 days) fire for them while the good
    twins keep today's dates.
    """
    from moto.backends import get_backend

    backend = get_backend("iam")[account_id][partition]
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    ages = {"key_age": key_age_days, "unused": unused_days, "user_age": user_age_days}
    aged: list[str] = []
    for user in list(backend.users.values()):
        if any(tag["Key"] == BACKDATE_TAG for tag in backend.list_user_tags(user.name)):
            _age(user, moment, **ages)
            aged.append(user.name)
    return sorted(aged)


def settle_config_recorders(account_id: str, regions: Iterable[str]) -> list[str]:
    """Mark started AWS Config recorders as delivered (``lastStatus: SUCCESS``).

    moto leaves a started recorder at ``PENDING`` forever, which a correct 4.3 policy treats
    as failing. Same-process only, like :func:`backdate_iam`. Returns the settled regions.
    """
    from moto.backends import get_backend

    backends = get_backend("config")[account_id]
    settled: list[str] = []
    for region in regions:
        for recorder in backends[region].recorders.values():
            if recorder.status.recording:
                recorder.status.last_status = "SUCCESS"
                settled.append(region)
    return settled
