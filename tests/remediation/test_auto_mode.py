"""The automatic mode fixes eligible low-risk findings after a scan and says so once."""

from __future__ import annotations

from sqlmodel import select

from posture.notify.content import FixItem, Message
from posture.notify.render import webhook, words
from posture.operations.fixes import auto_fix, list_fix_runs
from posture.operations.notifications import _auto_fixes, _mark_fixes_notified
from posture.store import Tenant

from .conftest import Repair

EBS = "aws.ec2.ebs_encryption_by_default_enabled"  # fix risk: low
BUCKET = "aws.s3.bucket_block_public_access"  # fix risk: medium


def test_auto_mode_applies_only_fixes_up_to_its_risk(repair: Repair) -> None:
    repair.setup([EBS, BUCKET], auto=True)
    repair.client("ec2").disable_ebs_encryption_by_default()
    repair.client("s3").create_bucket(Bucket="acme-open")
    repair.scan([EBS, BUCKET])
    done = auto_fix(repair.ops, "acme")
    assert [(r.fix_id, r.state) for r in done] == [("aws.ec2.ebs_default_encryption", "verified")]
    (run,) = list_fix_runs(repair.ops, "acme")
    assert run.auto and run.planned_by == "auto" and run.approved_by == "auto"
    assert repair.client("ec2").get_ebs_encryption_by_default()["EbsEncryptionByDefault"]
    refused = [d for d in repair.audit("fix.refused") if d["reason"] == "risk_too_high"]
    assert refused and refused[0]["policy"] == BUCKET
    assert repair.finding(BUCKET, ":::acme-open").state == "open"


def test_auto_mode_off_does_nothing(repair: Repair) -> None:
    repair.setup([EBS])
    repair.client("ec2").disable_ebs_encryption_by_default()
    repair.scan([EBS])
    assert auto_fix(repair.ops, "acme") == []
    assert list_fix_runs(repair.ops, "acme") == []


def test_the_next_notification_lists_the_automatic_fixes_once(repair: Repair) -> None:
    repair.setup([EBS], auto=True)
    repair.client("ec2").disable_ebs_encryption_by_default()
    repair.scan([EBS])
    (run,) = auto_fix(repair.ops, "acme")
    with repair.store.session() as session:
        tenant_id = session.exec(select(Tenant)).one().id
        items = _auto_fixes(repair.catalog, session, tenant_id)
    assert [(i.run_id, i.state) for i in items] == [(run.id, "verified")]
    _mark_fixes_notified(repair.ops, [run.id])
    with repair.store.session() as session:
        assert _auto_fixes(repair.catalog, session, tenant_id) == []


def test_the_fix_section_is_rendered_in_the_tenant_language() -> None:
    item = FixItem(
        "r1",
        "aws.ec2.ebs_default_encryption",
        {"en": "Turn on EBS encryption by default", "ja": "EBS デフォルト暗号化を有効にする"},
        "us-east-1",
        "verified",
    )
    message = Message("acme", "Acme", "ja", "ops", "high", fixes=[item])
    w = words(message)
    assert w.fix_heading == "自動で適用された修復"
    assert w.fix_lines == ("EBS デフォルト暗号化を有効にする: us-east-1 (適用・確認済み)",)
    english = words(Message("acme", "Acme", "en", "ops", "high", fixes=[item]))
    assert english.fix_lines == (
        "Turn on EBS encryption by default: us-east-1 (Applied and verified)",
    )
    assert webhook(message)["fixes"][0]["state"] == "verified"
