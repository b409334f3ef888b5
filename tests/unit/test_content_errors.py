"""Content errors point at the offending line, and validation lists every problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from posture.catalog import load_catalog
from posture.errors import ContentError
from posture.yamlload import load_yaml

from .test_catalog import GOOD, write_policy


def line_of_error(text: str) -> int | None:
    with pytest.raises(ContentError) as info:
        load_yaml("policy.yaml", textwrap.dedent(text))
    return info.value.line


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param(
            """\
            id: aws.s3.x
            title:
              en: "Bucket is open
              ja: バケット
            severity: high
            """,
            3,
            id="unclosed quote running to the end of the file",
        ),
        pytest.param(
            """\
            id: aws.s3.x
            title: "Bucket is open
            severity: "high"
            resource: aws.s3.bucket
            """,
            2,
            id="unclosed quote closed by a later one",
        ),
        pytest.param(
            """\
            id: aws.s3.x
            title:
              en: Bucket is open
             ja: バケット
            severity: high
            """,
            4,
            id="indentation too shallow",
        ),
        pytest.param(
            """\
            id: aws.s3.x
            resource: aws.s3.bucket
              severity: high
            tests: []
            """,
            3,
            id="indentation too deep",
        ),
        pytest.param(
            """\
            id: aws.s3.x
            tests:
              - name: on
                expect: pass
               resource: {}
            severity: high
            """,
            5,
            id="list item misaligned",
        ),
        pytest.param(
            "id: aws.s3.x\nseverity: [high\nresource: aws.s3.bucket\n", 2, id="open bracket"
        ),
    ],
)
def test_yaml_syntax_errors_name_the_offending_line(text: str, line: int) -> None:
    assert line_of_error(text) == line


def test_indentation_errors_say_what_to_check() -> None:
    with pytest.raises(ContentError) as info:
        load_yaml("p.yaml", "id: x\ntitle:\n  en: a\n ja: b\n")
    assert info.value.hint and "indentation" in info.value.hint
    assert str(info.value).startswith("p.yaml:4: invalid YAML")


def test_every_problem_of_a_policy_file_is_listed(tmp_path: Path) -> None:
    broken = (
        GOOD.replace("severity: low", "severity: urgent")
        .replace("resource: aws.s3.bucket\n", "resource: aws.s3.bucket\ncolour: blue\n")
        .replace(
            "rationale: {en: Versions allow recovery., ja: バージョンがあれば復旧できます。}\n", ""
        )
    )
    path = write_policy(tmp_path, broken)
    with pytest.raises(ContentError) as info:
        load_catalog(policy_dirs=[tmp_path])
    problems = info.value.problems
    assert {p.field for p in problems} == {"severity", "colour", "rationale"}
    assert all(p.path == str(path) and p.line for p in problems)
    by_field = {p.field: p for p in problems}
    assert by_field["colour"].line == 3 and by_field["severity"].line == 4
    assert by_field["rationale"].detail == "is required"
    assert "2 more problem(s)" in info.value.message


def test_loading_can_collect_broken_files_and_go_on(tmp_path: Path) -> None:
    write_policy(tmp_path, GOOD.replace("severity: low", "severity: urgent"))
    write_policy(
        tmp_path,
        GOOD.replace("custom.s3.versioning_on", "custom.s3.other").replace(
            "severity: low", "severity: [low"
        ),
        name="other.yaml",
    )
    problems: list[ContentError] = []
    catalog = load_catalog(policy_dirs=[tmp_path], problems=problems)
    assert sorted((Path(p.path or "").name, p.line) for p in problems) == [
        ("other.yaml", 3),
        ("versioning_on.yaml", 3),
    ]
    assert "aws.s3.bucket_versioning_enabled" in catalog.policies  # the rest still loads
