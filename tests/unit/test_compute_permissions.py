"""The Lambda, EKS and ECR calls show up in the derived IAM permission list."""

from __future__ import annotations

import contextlib
import io
import json

from posture.cli import app
from posture.cli.runtime import run_app

COMPUTE_ACTIONS = {
    "lambda:ListFunctions",
    "lambda:GetPolicy",
    "lambda:ListFunctionUrlConfigs",
    "lambda:GetFunctionCodeSigningConfig",
    "eks:ListClusters",
    "eks:DescribeCluster",
    "ecr:DescribeRepositories",
    "ecr:GetRepositoryPolicy",
    "ecr:GetLifecyclePolicy",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:ListTagsForResource",
}


def test_permissions_list_the_compute_actions() -> None:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert run_app(app, ["connection", "permissions", "aws", "--json"]) == 0
    actions = set(json.loads(buffer.getvalue())["Statement"][0]["Action"])
    assert actions >= COMPUTE_ACTIONS
    # read-only: nothing that changes a function, cluster or repository
    compute = {a for a in actions if a.split(":")[0] in ("lambda", "eks", "ecr")}
    assert compute == COMPUTE_ACTIONS
