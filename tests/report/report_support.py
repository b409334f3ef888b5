"""Test data and readers for the report tests.

A realistic month of one tenant, as the report builder would hand it to the renderers.

It carries what tends to break reports: every severity several times, hostile resource
names, Japanese names, a null actual value, negated and list evidence, a resolved
finding, a failed collection, two frameworks and a three-point trend.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from posture.report.model import (
    CollectionIssue,
    ConnectionHealth,
    ControlScore,
    FrameworkScore,
    ReportData,
    ReportEvidence,
    ReportFinding,
    Text,
    TrendPoint,
)

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_ATTR = '"onmouseover=alert(2) x="'
JAPANESE_BUCKET = "経理部-共有バケット"
START = datetime(2025, 6, 1, tzinfo=UTC)
END = datetime(2025, 7, 1, tzinfo=UTC)


def ev(path: str, op: str, expected: Any, actual: Any, negated: bool = False) -> ReportEvidence:
    return ReportEvidence(path, op, expected, actual, negated)


POLICIES: dict[str, dict[str, Any]] = {
    "aws.iam.root_mfa_enabled": {
        "severity": "critical",
        "title": Text(
            "Root user does not have MFA enabled",
            "ルートユーザーで MFA が有効になっていません",
        ),
        "rationale": Text(
            "The root user has unrestricted access to the account.",
            "ルートユーザーはアカウントのすべての操作を制限なく実行できます。",
        ),
        "recommendation": Text(
            "Enable a hardware MFA device for the root user.",
            "ルートユーザーにハードウェア MFA デバイスを設定してください。",
        ),
        "controls": (("cis-aws-7.0", "2.4"), ("iso-27001-2022", "A.8.5")),
    },
    "aws.ec2.security_group_ssh_open": {
        "severity": "critical",
        "title": Text(
            "Security group allows SSH from the internet",
            "セキュリティグループがインターネットからの SSH を許可しています",
        ),
        "rationale": Text(
            "Open SSH ports are scanned and brute-forced within minutes.",
            "公開された SSH ポートは短時間で探索され、総当たり攻撃を受けます。",
        ),
        "recommendation": Text(
            "Restrict port 22 to known administrator networks or use Session Manager.",
            "ポート 22 を管理者のネットワークに限定するか、Session Manager を利用してください。",
        ),
        "controls": (("cis-aws-7.0", "6.3"),),
    },
    "m365.entra.ca_require_mfa_admins": {
        "severity": "critical",
        "title": Text(
            "No Conditional Access policy requires MFA for administrators",
            "管理者に MFA を要求する条件付きアクセスポリシーがありません",
        ),
        "rationale": Text(
            "Administrator accounts are the first target of phishing.",
            "管理者アカウントはフィッシングの最初の標的になります。",
        ),
        "recommendation": Text(
            "Create a Conditional Access policy that requires MFA for all admin roles.",
            "すべての管理者ロールに MFA を要求する条件付きアクセスポリシーを作成してください。",
        ),
        "controls": (("iso-27001-2022", "A.8.5"),),
    },
    "aws.s3.bucket.block_public_access": {
        "severity": "high",
        "title": Text(
            "S3 bucket does not block public access",
            "S3 バケットのパブリックアクセスがブロックされていません",
        ),
        "rationale": Text(
            "Public buckets are a leading cause of data leaks.",
            "公開されたバケットはデータ漏えいの主な原因の一つです。",
        ),
        "recommendation": Text(
            "Turn on all four Block Public Access settings for the bucket.",
            "バケットのパブリックアクセスブロックの 4 つの設定をすべて有効にしてください。",
        ),
        "controls": (("cis-aws-7.0", "3.1.4"), ("iso-27001-2022", "A.8.3")),
    },
    "aws.cloudtrail.multi_region": {
        "severity": "high",
        "title": Text(
            "CloudTrail does not log all regions", "CloudTrail が全リージョンを記録していません"
        ),
        "rationale": Text(
            "Activity in unused regions goes unnoticed.",
            "使用していないリージョンでの操作に気付けなくなります。",
        ),
        "recommendation": Text(
            "Enable a multi-region trail.", "マルチリージョンの証跡を有効にしてください。"
        ),
        "controls": (("cis-aws-7.0", "4.1"),),
    },
    "aws.iam.password_policy_min_length": {
        "severity": "medium",
        "title": Text(
            "IAM password policy allows passwords shorter than 14 characters",
            "IAM パスワードポリシーで 14 文字未満のパスワードが許可されています",
        ),
        "rationale": Text(
            "Short passwords are easier to guess.",
            "短いパスワードは推測されやすくなります。",
        ),
        "recommendation": Text(
            "Set the minimum password length to 14 or more.",
            "パスワードの最小文字数を 14 以上に設定してください。",
        ),
        "controls": (("cis-aws-7.0", "2.8"),),
    },
    "aws.iam.access_key_rotated": {
        "severity": "medium",
        "title": Text(
            "Access key not rotated within 90 days",
            "アクセスキーが 90 日以内にローテーションされていません",
        ),
        "rationale": Text(
            "Old keys are more likely to have leaked.",
            "古いキーほど漏えいしている可能性が高まります。",
        ),
        "recommendation": Text(
            "Rotate the access key and delete the old one.",
            "アクセスキーをローテーションし、古いキーを削除してください。",
        ),
        "controls": (("cis-aws-7.0", "2.13"),),
    },
    "gws.admin.two_step_enforced": {
        "severity": "medium",
        "title": Text(
            "2-Step Verification is not enforced", "2 段階認証プロセスが強制されていません"
        ),
        "rationale": Text(
            "Passwords alone are easily phished.", "パスワードだけではフィッシングに弱くなります。"
        ),
        "recommendation": Text(
            "Enforce 2-Step Verification for all organisational units.",
            "すべての組織部門で 2 段階認証プロセスを強制してください。",
        ),
        "controls": (),
    },
    "aws.s3.bucket.versioning": {
        "severity": "low",
        "title": Text(
            "S3 bucket versioning is not enabled", "S3 バケットのバージョニングが無効です"
        ),
        "rationale": Text(
            "Without versions, overwritten objects cannot be restored.",
            "バージョニングがないと上書きされたオブジェクトを復元できません。",
        ),
        "recommendation": Text(
            "Enable versioning on the bucket.", "バケットのバージョニングを有効にしてください。"
        ),
        "controls": (),
    },
    "aws.ec2.instance_tagged_owner": {
        "severity": "low",
        "title": Text("EC2 instance has no owner tag", "EC2 インスタンスに owner タグがありません"),
        "rationale": Text(
            "Untagged instances have no one responsible for them.",
            "タグのないインスタンスは責任者が分かりません。",
        ),
        "recommendation": Text(
            "Add an owner tag to every instance.",
            "すべてのインスタンスに owner タグを付けてください。",
        ),
        "controls": (),
    },
    "aws.iam.user_inventory": {
        "severity": "info",
        "title": Text("IAM user with console access", "コンソールアクセスを持つ IAM ユーザー"),
        "rationale": Text(
            "Console users should be reviewed regularly.",
            "コンソールユーザーは定期的に棚卸ししてください。",
        ),
        "recommendation": Text(
            "Prefer single sign-on through IAM Identity Center.",
            "IAM Identity Center によるシングルサインオンを利用してください。",
        ),
        "controls": (),
    },
}


def finding(
    n: int,
    policy_id: str,
    name: str,
    evidence: tuple[ReportEvidence, ...],
    *,
    state: str = "open",
    region: str = "ap-northeast-1",
    connection: str = "aws-prod",
) -> ReportFinding:
    meta = POLICIES[policy_id]
    provider, service = policy_id.split(".")[:2]
    resolved_at = datetime(2025, 6, 20, 3, 0, tzinfo=UTC) if state == "resolved" else None
    return ReportFinding(
        finding_id=f"{n:04d}a7c9e2f1b3d5",
        policy_id=policy_id,
        title=meta["title"],
        rationale=meta["rationale"],
        recommendation=meta["recommendation"],
        severity=meta["severity"],
        service=service,
        provider=provider,
        resource_type=".".join(policy_id.split(".")[:3]),
        resource_uid=f"arn:aws:{service}:::{name}" if provider == "aws" else f"{provider}/{n}",
        resource_name=name,
        region=region,
        connection=connection,
        state=state,
        first_seen=datetime(2025, 6 if n % 2 else 3, 2 + n, 3, 0, tzinfo=UTC),
        last_seen=datetime(2025, 6, 29, 3, 0, tzinfo=UTC),
        resolved_at=resolved_at,
        evidence=evidence,
        controls=meta["controls"],
        is_new=bool(n % 2),
    )


def open_findings() -> list[ReportFinding]:
    sg_items = (
        ev("IpPermissions", "no_item", "item condition", {"matching": 1, "total": 3}),
        ev("IpPermissions[0].IpRanges[0].CidrIp", "eq", "0.0.0.0/0", "0.0.0.0/0", negated=True),
    )
    no_public_block = (ev("public_access_block.BlockPublicAcls", "eq", True, None),)
    return [
        finding(
            1,
            "aws.iam.root_mfa_enabled",
            "123456789012",
            (ev("mfa_active", "eq", True, False),),
            region="global",
        ),
        finding(2, "aws.ec2.security_group_ssh_open", HOSTILE_SCRIPT, sg_items),
        finding(
            3,
            "m365.entra.ca_require_mfa_admins",
            "contoso.onmicrosoft.com",
            (ev("policies", "any_item", "item condition", {"matching": 0, "total": 4}),),
            region="global",
            connection="m365-contoso",
        ),
        finding(4, "aws.s3.bucket.block_public_access", JAPANESE_BUCKET, no_public_block),
        finding(
            5,
            "aws.s3.bucket.block_public_access",
            HOSTILE_ATTR,
            no_public_block,
            region="us-east-1",
        ),
        finding(
            6,
            "aws.cloudtrail.multi_region",
            "org-trail",
            (ev("IsMultiRegionTrail", "eq", True, False),),
        ),
        finding(
            7,
            "aws.iam.password_policy_min_length",
            "123456789012",
            (ev("password_policy.MinimumPasswordLength", "ge", 14, 8),),
            region="global",
        ),
        finding(
            8,
            "aws.iam.access_key_rotated",
            "deploy-bot",
            (ev("access_keys[0].last_rotated", "within_days", 90, "2024-11-02T00:00:00+00:00"),),
            region="global",
        ),
        finding(
            9,
            "gws.admin.two_step_enforced",
            "営業部",
            (ev("isEnforcedIn2Sv", "eq", True, False),),
            region="global",
            connection="gws-example",
        ),
        finding(
            10,
            "aws.s3.bucket.versioning",
            "logs-archive",
            (ev("versioning.Status", "in", ["Enabled"], "Suspended"),),
        ),
        finding(
            11,
            "aws.ec2.instance_tagged_owner",
            "i-0abc123def456",
            (ev("tags", "length", {"ge": 1}, []), ev("tags.owner", "exists", True, None)),
        ),
        finding(
            12,
            "aws.iam.user_inventory",
            "alice@example.com",
            (ev("password_enabled", "eq", False, True),),
            region="global",
        ),
        finding(
            13,
            "aws.iam.user_inventory",
            "bob@example.com",
            (ev("user_name", "not_matches", "^svc-", "bob@example.com"),),
            region="global",
        ),
    ]


# Japanese control titles of the test frameworks, as the framework files carry them.
CONTROL_TITLES_JA = {
    "2.4": "ルートユーザーアカウントでハードウェア MFA が有効になっていることを確認する",
    "2.8": "IAM パスワードポリシーで最小文字数が 14 文字以上に設定されていることを確認する",
    "2.13": "アクセスキーが 90 日以内ごとにローテーションされていることを確認する",
    "3.1.4": "S3 で「ブロックパブリックアクセス」が有効に設定されていることを確認する",
    "4.1": "すべてのリージョンで CloudTrail が有効になっていることを確認する",
    "4.2": "CloudTrail のログファイルの検証が有効になっていることを確認する",
    "6.3": "ポート 22 への受信を許可するセキュリティグループがないことを確認する",
    "A.8.3": "情報へのアクセス制限",
    "A.8.5": "セキュリティを保った認証",
    "A.8.15": "ログ取得",
}


def control(control_id: str, title: str, status: str, failed: int) -> ControlScore:
    return ControlScore(control_id, Text(title, CONTROL_TITLES_JA[control_id]), status, failed)


def frameworks() -> list[FrameworkScore]:
    cis = FrameworkScore(
        framework_id="cis-aws-7.0",
        name=Text("CIS AWS Foundations Benchmark v7.0.0", "CIS AWS Foundations Benchmark v7.0.0"),
        controls_total=62,
        controls_evaluated=7,
        controls_passed=2,
        controls=(
            control("2.4", "Hardware MFA is enabled for the 'root' user account", "fail", 1),
            control("2.8", "IAM password policy requires minimum length of 14", "fail", 1),
            control("2.13", "Access keys are rotated every 90 days or less", "fail", 1),
            control("3.1.4", "S3 is configured with 'Block Public Access' enabled", "error", 0),
            control("4.1", "CloudTrail is enabled in all regions", "fail", 1),
            control("4.2", "CloudTrail log file validation is enabled", "pass", 0),
            control("6.3", "No security groups allow ingress to port 22", "pass", 0),
        ),
    )
    iso = FrameworkScore(
        framework_id="iso-27001-2022",
        name=Text("ISO/IEC 27001:2022 Annex A", "ISO/IEC 27001:2022 附属書A"),
        controls_total=93,
        controls_evaluated=3,
        controls_passed=1,
        controls=(
            control("A.8.3", "Information access restriction", "fail", 2),
            control("A.8.5", "Secure authentication", "fail", 2),
            control("A.8.15", "Logging", "pass", 0),
        ),
    )
    return [cis, iso]


def make_report_data() -> ReportData:
    resolved = finding(
        14,
        "aws.s3.bucket.block_public_access",
        "marketing-assets",
        (ev("public_access_block.BlockPublicAcls", "eq", True, False),),
        state="resolved",
    )
    return ReportData(
        tenant_name="株式会社サンプル商事 <Example & Co>",
        tenant_slug="sample-shoji",
        period_start=START,
        period_end=END,
        generated_at=datetime(2025, 7, 1, 0, 30, tzinfo=UTC),
        scan_id="scan-20250629-0300",
        findings=open_findings(),
        resolved_in_period=[resolved],
        frameworks=frameworks(),
        trend=[
            TrendPoint(
                datetime(2025, 6, 1, 3, tzinfo=UTC), {"critical": 2, "high": 4, "medium": 3}
            ),
            TrendPoint(
                datetime(2025, 6, 15, 3, tzinfo=UTC),
                {"critical": 3, "high": 4, "medium": 3, "low": 1},
            ),
            TrendPoint(
                datetime(2025, 6, 29, 3, tzinfo=UTC),
                {"critical": 3, "high": 3, "medium": 3, "low": 2, "info": 2},
            ),
        ],
        connections=[
            ConnectionHealth(
                "aws-prod",
                "aws",
                "123456789012",
                "partial",
                "1 resource type(s) could not be collected",
                datetime(2025, 6, 29, 3, tzinfo=UTC),
            ),
            ConnectionHealth(
                "m365-contoso",
                "m365",
                "contoso.onmicrosoft.com",
                "ok",
                "",
                datetime(2025, 6, 29, 3, tzinfo=UTC),
            ),
            ConnectionHealth("gws-example", "gws", "C01abcd", "never", "", None),
        ],
        collection_issues=[
            CollectionIssue(
                "aws-prod",
                "aws.s3.bucket",
                "ap-northeast-1",
                "s3:GetBucketPublicAccessBlock in ap-northeast-1 failed: AccessDenied: Access Denied",
                code="AccessDenied",
                permission="s3:GetBucketPublicAccessBlock",
            ),
        ],
        resources_scanned=412,
        policies_evaluated=57,
    )


class Page(HTMLParser):
    """The parts of a rendered HTML report that tests look at, read with the stdlib parser.

    Text is collected decoded (as a browser would show it); ``items`` holds the text of
    each ``<li>``; ``scripts`` the raw content of each ``<script>`` with its attributes.
    """

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: list[str] = []
        self.items: list[str] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._item: list[str] | None = None
        self._script: dict[str, str] | None = None
        self._raw_tag: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag == "li":
            self._item = []
        if tag in ("script", "style"):
            self._raw_tag = tag
            self._script = attributes if tag == "script" else None

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._item is not None:
            self.items.append("".join(self._item).strip())
            self._item = None
        if tag == self._raw_tag:
            self._raw_tag = None

    def handle_data(self, data: str) -> None:
        if self._raw_tag == "script" and self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None
            return
        if self._raw_tag:
            return
        self.texts.append(data)
        if self._item is not None:
            self._item.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())

    def with_attr(self, name: str, value: str) -> list[tuple[str, dict[str, str]]]:
        return [e for e in self.elements if e[1].get(name) == value]

    def classed(self, tag: str, css_class: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and css_class in a.get("class", "").split()]
