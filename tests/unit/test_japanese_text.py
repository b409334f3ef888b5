"""Japanese text in content files: no stray spaces, control titles in both languages."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from posture.catalog import Catalog, load_catalog
from posture.errors import ContentError
from posture.japanese import stray_space


@pytest.mark.parametrize(
    "text",
    [
        "IAM ユーザーにアクセスキーがあります。",
        "S3 バケット {name} はパブリックアクセスを許可しています ({failed_flags} が無効)",
        "評価した {evaluated} 件の管理策のうち {passed} 件に適合しています。",
        "コンソールでは「S3 > バケット > 編集」で有効にします。",
        "CLI: aws s3api get-bucket-policy --bucket BUCKET を実行します。",
        "有効にしてください。\n",  # a trailing line break is not a gap inside the text
        "ログ記録中（GetTrailStatus の IsLogging = true）です",
    ],
)
def test_spaces_next_to_latin_text_are_allowed(text: str) -> None:
    assert stray_space(text) is None


@pytest.mark.parametrize(
    ("text", "excerpt"),
    [
        ("適用されます。 そのため、防げます。", "適用されます。␣そのため、防げます。"),
        ("有効にします。 CLI: aws", "有効にします。␣CLI: aws"),
        ("許可、 拒否", "許可、␣拒否"),
        ("IAM ユーザー の一覧", "IAM ユーザー␣の一覧"),
        ("すべて ブロック", "すべて␣ブロック"),
        ("「編集」 で", "「編集」␣で"),
        ("全角スペース\u3000の後", "全角スペース␣の後"),
        ("一行目の終わり\n二行目", "一行目の終わり\\n二行目"),
    ],
)
def test_spaces_between_japanese_characters_are_refused(text: str, excerpt: str) -> None:
    assert stray_space(text) == excerpt


FOLDED = """\
id: custom.s3.versioning_on
resource: aws.s3.bucket
severity: low
title: {en: Bucket versioning is off, ja: バケットのバージョニングが無効です}
rationale:
  en: Versions allow recovery.
  ja: >-
    バージョンがあれば復旧できます。
    誤って削除したオブジェクトも戻せます。
recommendation: {en: Turn versioning on., ja: バージョニングを有効にしてください。}
condition: {path: versioning.Status, eq: Enabled}
tests:
  - {name: on, expect: pass, resource: {versioning: {Status: Enabled}}}
  - {name: off, expect: fail, statement: {en: "Bucket example has versioning off", ja: "バケット example のバージョニングが無効です"}, resource: {versioning: {}}}
statement: {en: "Bucket {{ resource.name }} has versioning off", ja: "バケット {{ resource.name }} のバージョニングが無効です"}
"""


def _write(folder: Path, relative: str, text: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_folded_japanese_text_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "custom/s3/versioning_on.yaml", FOLDED)
    with pytest.raises(ContentError) as info:
        load_catalog(policy_dirs=[tmp_path])
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), 7, "rationale.ja")
    assert f"{path}:7: field 'rationale.ja'" in str(err)
    assert "復旧できます。␣誤って" in str(err)
    assert "write each Japanese paragraph on one line" in str(err)


def test_japanese_text_joined_correctly_is_accepted(tmp_path: Path) -> None:
    joined = FOLDED.replace(
        "    バージョンがあれば復旧できます。\n    誤って",
        "    バージョンがあれば復旧できます。誤って",
    )
    _write(tmp_path, "custom/s3/versioning_on.yaml", joined)
    policy = load_catalog(policy_dirs=[tmp_path]).policies["custom.s3.versioning_on"]
    assert (
        policy.rationale.ja
        == "バージョンがあれば復旧できます。誤って削除したオブジェクトも戻せます。"
    )


FRAMEWORK = """\
id: custom-baseline
name: {en: Custom baseline, ja: 独自の基準}
provider: aws
version: "1"
controls:
  - id: "1.1"
    title:
      en: Versioning is enabled on every bucket
      ja: すべてのバケットでバージョニングが有効になっていることを確認する
"""


def test_control_titles_have_both_languages(tmp_path: Path) -> None:
    _write(tmp_path, "frameworks/custom.yaml", FRAMEWORK)
    (control,) = load_catalog(policy_dirs=[tmp_path]).frameworks["custom-baseline"].controls
    assert control.title.get("ja").startswith("すべてのバケット")
    assert control.title.get("en") == "Versioning is enabled on every bucket"


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        (
            "      ja: すべてのバケットでバージョニングが有効になっていることを確認する\n",
            "",
            7,
            "controls[0].title.ja",
            "is required",
        ),
        (  # English-only, as framework files were written before titles had two languages
            "    title:\n      en: Versioning is enabled on every bucket\n"
            "      ja: すべてのバケットでバージョニングが有効になっていることを確認する\n",
            "    title: Versioning is enabled on every bucket\n",
            7,
            "controls[0].title",
            "a control title needs both languages",
        ),
        (
            "すべてのバケットで",
            "すべての バケットで",
            9,
            "controls[0].title.ja",
            "すべての␣バケットで",
        ),
    ],
)
def test_bad_control_title_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    assert old in FRAMEWORK
    path = _write(tmp_path, "frameworks/custom.yaml", FRAMEWORK.replace(old, new))
    with pytest.raises(ContentError) as info:
        load_catalog(policy_dirs=[tmp_path])
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), line, field), str(err)
    assert message in str(err)


def test_every_builtin_control_has_a_japanese_title(catalog: Catalog) -> None:
    for framework in catalog.frameworks.values():
        for control in framework.controls:
            assert control.title.ja != control.title.en, (framework.id, control.id)
