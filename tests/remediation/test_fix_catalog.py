"""Fix files load with the catalog; both ends of policy <-> fix are checked with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from posture.catalog import Catalog, load_catalog
from posture.content import builtin_dir
from posture.errors import ContentError

FIX = """\
id: aws.s3.block_public_access_copy
provider: aws
resource_type: aws.s3.bucket
resolves: [custom.s3.bpa]
risk: low
title: {en: Block public access, ja: パブリックアクセスをブロックする}
effect: {en: Sets the flags., ja: フラグを設定します。}
side_effects: {en: Anonymous readers lose access., ja: 匿名の読み手はアクセスできなくなります。}
permissions: [s3:PutBucketPublicAccessBlock]
read: {call: s3.get_public_access_block, args: {Bucket: "{{ resource.name }}"}}
desired: {BlockPublicAcls: true}
apply: [{call: s3.put_public_access_block, args: {Bucket: "{{ resource.name }}"}}]
restore: [{call: s3.delete_public_access_block, args: {Bucket: "{{ resource.name }}"}}]
"""
POLICY = """\
id: custom.s3.bpa
resource: aws.s3.bucket
severity: low
title: {en: Public ACLs allowed, ja: パブリック ACL が許可されています}
rationale: {en: They expose data., ja: データが公開されます。}
recommendation: {en: Block them., ja: ブロックしてください。}
statement: {en: "Bucket {{ resource.name }} allows public ACLs", ja: "バケット {{ resource.name }} はパブリック ACL を許可しています"}
condition: {path: public_access_block.BlockPublicAcls, eq: true}
remediation: aws.s3.block_public_access_copy
tests:
  - {name: on, expect: pass, resource: {public_access_block: {BlockPublicAcls: true}}}
  - {name: off, expect: fail, statement: {en: "Bucket example allows public ACLs", ja: "バケット example はパブリック ACL を許可しています"}, resource: {public_access_block: null}}
"""


def _content(tmp_path: Path, fix: str = FIX, policy: str = POLICY) -> tuple[Path, Path]:
    policies = tmp_path / "policies"
    (policies / "custom" / "s3").mkdir(parents=True)
    (policies / "custom" / "s3" / "bpa.yaml").write_text(policy, encoding="utf-8")
    fixes = tmp_path / "remediation"
    (fixes / "aws").mkdir(parents=True)
    (fixes / "aws" / "aws.s3.block_public_access_copy.yaml").write_text(fix, encoding="utf-8")
    return policies, fixes


def _load(policies: Path, fixes: Path, problems: list[ContentError] | None = None) -> Catalog:
    """Only these policies and fixes, with the built-in collection specs."""
    return load_catalog(
        [builtin_dir("scanners")],
        [policies],
        builtin=False,
        remediation_dirs=[fixes],
        problems=problems,
    )


def _error(
    tmp_path: Path, fix: str = FIX, policy: str = POLICY, *, without_fix: bool = False
) -> ContentError:
    policies, fixes = _content(tmp_path, fix, policy)
    if without_fix:
        for path in fixes.rglob("*.yaml"):
            path.unlink()
    with pytest.raises(ContentError) as info:
        _load(policies, fixes)
    return info.value


def test_builtin_fixes_load_and_name_their_policies() -> None:
    catalog = load_catalog()
    fix = catalog.fixes["aws.s3.block_public_access"]
    assert catalog.fix_for("aws.s3.bucket_block_public_access") is fix
    for fix in catalog.fixes.values():
        for policy_id in fix.resolves:
            assert catalog.policies[policy_id].remediation == fix.id


def test_a_user_fix_folder_extends_the_builtin_fixes(tmp_path: Path) -> None:
    policies, fixes = _content(tmp_path)
    catalog = _load(policies, fixes)
    assert catalog.fix_for("custom.s3.bpa") is catalog.fixes["aws.s3.block_public_access_copy"]


def test_a_policy_naming_an_unknown_fix_is_an_error(tmp_path: Path) -> None:
    wrong = POLICY.replace("_access_copy", "_acess")
    error = _error(tmp_path, policy=wrong, without_fix=True)
    assert error.field == "remediation" and error.line == 9
    assert "unknown fix 'aws.s3.block_public_acess'" in error.message
    assert error.path is not None and error.path.endswith("bpa.yaml")


def test_a_fix_resolving_an_unknown_policy_is_an_error(tmp_path: Path) -> None:
    error = _error(
        tmp_path, fix=FIX.replace("resolves: [custom.s3.bpa]", "resolves: [custom.s3.nope]")
    )
    assert error.field == "resolves.0" and error.line == 4
    assert "unknown policy 'custom.s3.nope'" in error.message


def test_a_fix_of_another_resource_type_is_an_error(tmp_path: Path) -> None:
    error = _error(
        tmp_path, fix=FIX.replace("resource_type: aws.s3.bucket", "resource_type: aws.ec2.instance")
    )
    assert error.field == "resolves.0"
    assert "checks 'aws.s3.bucket', but the fix changes 'aws.ec2.instance'" in error.message


def test_a_fix_without_japanese_text_is_an_error(tmp_path: Path) -> None:
    error = _error(tmp_path, fix=FIX.replace(", ja: フラグを設定します。", ""))
    assert error.field == "effect.ja" and error.line == 7
    assert "required" in error.message


def test_a_fix_naming_an_unknown_handler_is_an_error(tmp_path: Path) -> None:
    declarative = FIX.split("read:")[0]
    error = _error(tmp_path, fix=declarative + "handler: aws.ec2.no_such_handler\n")
    assert error.field == "handler"
    assert "no fix handler named 'aws.ec2.no_such_handler'" in error.message


def test_validation_collects_fix_problems(tmp_path: Path) -> None:
    policies, fixes = _content(tmp_path, fix=FIX.replace("risk: low", "risk: extreme"))
    problems: list[ContentError] = []
    _load(policies, fixes, problems)
    assert any(p.field == "risk" and p.line == 5 for p in problems)
    # the policy's end: its fix did not load
    assert any(p.field == "remediation" for p in problems)


def test_the_cli_validator_reports_fix_problems(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from posture.cli.app import app

    policies, fixes = _content(tmp_path, fix=FIX.replace("risk: low", "risk: extreme"))
    result = CliRunner().invoke(
        app,
        [
            "--remediation-dir",
            str(fixes),
            "--db",
            f"sqlite:///{tmp_path / 'p.db'}",
            "policies",
            "validate",
            str(policies),
        ],
    )
    assert result.exit_code == 2
    assert "aws.s3.block_public_access_copy.yaml:5: field 'risk'" in result.output


def test_manual_and_declarative_do_not_mix(tmp_path: Path) -> None:
    error = _error(tmp_path, fix=FIX + "manual: true\n")
    assert "a manual fix has no handler, read, apply or restore steps" in error.message
