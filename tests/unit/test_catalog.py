from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from posture.catalog import load_catalog
from posture.connectors.aws.validate import check_specs, required_permissions
from posture.errors import ContentError

GOOD = """\
id: custom.s3.versioning_on
resource: aws.s3.bucket
severity: low
title: {en: Bucket versioning is off, ja: バケットのバージョニングが無効です}
rationale: {en: Versions allow recovery., ja: バージョンがあれば復旧できます。}
recommendation: {en: Turn versioning on., ja: バージョニングを有効にしてください。}
condition: {path: versioning.Status, eq: Enabled}
frameworks: {cis-aws-7.0: ["3.1.2"]}
tests:
  - {name: on, expect: pass, resource: {versioning: {Status: Enabled}}}
  - {name: off, expect: fail, statement: {en: "Bucket example has versioning off", ja: "バケット example のバージョニングが無効です"}, resource: {versioning: {}}}
statement: {en: "Bucket {{ resource.name }} has versioning off", ja: "バケット {{ resource.name }} のバージョニングが無効です"}
"""


def write_policy(folder: Path, text: str, name: str = "versioning_on.yaml") -> Path:
    target = folder / "custom" / "s3"
    target.mkdir(parents=True, exist_ok=True)
    path = target / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_builtin_catalog_loads_and_specs_match_botocore(catalog) -> None:  # type: ignore[no-untyped-def]
    assert len(catalog.policies) >= 40
    assert "cis-aws-7.0" in catalog.frameworks
    assert check_specs(catalog.specs.values()) == []
    permissions = required_permissions(catalog.specs.values())
    assert "s3:GetBucketPolicy" in permissions
    assert "iam:GenerateCredentialReport" in permissions
    assert (
        "s3:GetAccountPublicAccessBlock" in permissions or "s3:GetPublicAccessBlock" in permissions
    )


def test_user_policy_folder_extends_builtin(tmp_path: Path) -> None:
    write_policy(tmp_path, GOOD)
    catalog = load_catalog(policy_dirs=[tmp_path])
    assert "custom.s3.versioning_on" in catalog.policies


def test_loading_the_same_folders_again_gives_a_private_copy_and_any_edit_reloads(
    tmp_path: Path,
) -> None:
    path = write_policy(tmp_path, GOOD)
    first = load_catalog(policy_dirs=[tmp_path])
    second = load_catalog(policy_dirs=[tmp_path])
    assert second is not first and second.policies.keys() == first.policies.keys()
    second.policies.pop("custom.s3.versioning_on")  # a caller changing its own copy
    assert "custom.s3.versioning_on" in load_catalog(policy_dirs=[tmp_path]).policies
    # the same size and, likely, the same modification time: the bytes decide
    path.write_text(GOOD.replace("versioning is off", "versioning is OFF"), encoding="utf-8")
    reloaded = load_catalog(policy_dirs=[tmp_path]).policies["custom.s3.versioning_on"]
    assert reloaded.title.en == "Bucket versioning is OFF"
    path.write_text(GOOD.replace("severity: low", "severity: urgent"), encoding="utf-8")
    with pytest.raises(ContentError):
        load_catalog(policy_dirs=[tmp_path])  # a broken edit is an error, not the old copy


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        (
            "condition: {path: versioning.Status, eq: Enabled}",
            "condition: {path: versioning.Status, equals: Enabled}",
            7,
            "condition.equals",
            "valid operators: eq",
        ),
        ("severity: low", "severity: urgent", 3, "severity", "Input should be"),
        (
            "resource: aws.s3.bucket",
            "resource: aws.s3.buckets",
            2,
            "resource",
            "did you mean 'aws.s3.bucket'",
        ),
        (
            'frameworks: {cis-aws-7.0: ["3.1.2"]}',
            'frameworks: {cis-aws-7.0: ["99.9"]}',
            8,
            "frameworks.cis-aws-7.0",
            "not in framework",
        ),
        (
            "title: {en: Bucket versioning is off, ja: バケットのバージョニングが無効です}",
            "title: {en: Bucket versioning is off}",
            4,
            "title.ja",
            "is required",
        ),
        (
            '  - {name: off, expect: fail, statement: {en: "Bucket example has versioning off", ja: "バケット example のバージョニングが無効です"}, resource: {versioning: {}}}',
            "  - {name: off, expect: pass, resource: {versioning: {}}}",
            9,
            "tests",
            "expect: fail",
        ),
        (
            "id: custom.s3.versioning_on",
            "id: custom.s3.other_name",
            1,
            "id",
            "must end with the file name",
        ),
    ],
)
def test_malformed_policy_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    assert old in GOOD
    path = write_policy(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ContentError) as info:
        load_catalog(policy_dirs=[tmp_path])
    err = info.value
    assert err.path == str(path)
    assert err.line == line, str(err)
    assert err.field == field, str(err)
    assert message in str(err)
    assert f"{path}:{line}" in str(err)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write_policy(tmp_path, GOOD.replace("severity: low", "severity: [low"))
    with pytest.raises(ContentError) as info:
        load_catalog(policy_dirs=[tmp_path])
    assert info.value.path == str(path)
    assert info.value.line is not None and info.value.line >= 3


def test_duplicate_policy_id_names_both_files(tmp_path: Path) -> None:
    write_policy(tmp_path, GOOD)
    other = tmp_path / "more" / "custom" / "s3"
    other.mkdir(parents=True)
    (other / "versioning_on.yaml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(ContentError, match="already defined in"):
        load_catalog(policy_dirs=[tmp_path])


def test_unquoted_control_id_is_an_error(tmp_path: Path) -> None:
    write_policy(tmp_path, GOOD.replace('["3.1.2"]', "[3.1]"))
    with pytest.raises(ContentError) as info:
        load_catalog(policy_dirs=[tmp_path])
    assert info.value.field == "frameworks.cis-aws-7.0[0]"


def test_bad_scanner_spec_is_reported(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "aws.demo.thing:\n  service: s3\n  scope: everywhere\n  list: {call: list_buckets, items: Buckets}\n  uid: '{Name}'\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as info:
        load_catalog(scanner_dirs=[tmp_path])
    assert info.value.line == 3
    assert info.value.field == "aws.demo.thing.scope"


def test_spec_with_unknown_operation_is_flagged(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "aws.demo.thing:\n  service: s3\n  scope: global\n  list: {call: list_bukkits, items: Buckets}\n  uid: '{Name}'\n",
        encoding="utf-8",
    )
    catalog = load_catalog(scanner_dirs=[tmp_path])
    problems = check_specs([catalog.specs["aws.demo.thing"]])
    assert problems == ["aws.demo.thing: service 's3' has no operation 'list_bukkits'"]
