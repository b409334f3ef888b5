"""docker-compose.yml and the Dockerfile agree with the program they run: every command
parses with the real command line, every POSTURE_* variable is one posture reads, every
dependency, volume and copied folder exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from posture.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _posture_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: spec
        for name, spec in compose["services"].items()
        if spec.get("image") == "posture:local"
    }


def _parse(args: list[str]) -> tuple[int, str]:
    """Parse ``posture ARGS`` without running it: with ``--help`` appended, every option
    is still parsed first (an unknown one is an error), then the help ends the command."""
    result = CliRunner().invoke(app, [*args, "--help"])
    return result.exit_code, result.output


def test_every_posture_service_runs_a_command_that_exists(compose: dict[str, Any]) -> None:
    services = _posture_services(compose)
    assert {"web", "scheduler", "worker", "migrate"} <= set(services)
    for name, spec in services.items():
        code, output = _parse([str(a) for a in spec["command"]])
        assert code == 0, f"service {name}: posture {' '.join(spec['command'])}: {output}"
        assert "Usage:" in output


def test_a_mistyped_option_or_command_would_be_caught() -> None:
    assert _parse(["worker", "--concurency", "2"])[0] != 0
    assert _parse(["serve", "--schedular"])[0] != 0
    assert _parse(["tenant", "lst"])[0] != 0


def test_every_posture_variable_of_the_compose_file_is_read_by_posture(
    compose: dict[str, Any],
) -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py"))
    for name, spec in _posture_services(compose).items():
        for variable in spec.get("environment", {}):
            if variable.startswith("POSTURE_"):
                assert f'"{variable}"' in sources, f"service {name}: {variable} is read nowhere"
    env = _posture_services(compose)["web"]["environment"]
    assert env["POSTURE_DATABASE_URL"].startswith("postgresql")
    assert re.match(r"^(amqp|redis)://", env["POSTURE_BROKER_URL"])


def test_dependencies_volumes_and_health_checks_exist(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, spec in services.items():
        for needed, condition in (spec.get("depends_on") or {}).items():
            assert needed in services, f"{name} depends on unknown {needed}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], f"{needed} has no health check"
        for volume in spec.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in compose["volumes"], f"{name}: undeclared volume {source}"
    web_ports = [str(p) for p in services["web"]["ports"]]
    assert "8000:8000" in web_ports and "8000" in services["web"]["command"]


def test_the_dockerfile_copies_what_exists_and_runs_the_installed_command() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    copied = re.findall(r"^COPY\s+(.+?)\s+\S+$", text, flags=re.MULTILINE)
    assert copied
    for line in copied:
        for source in line.split():
            assert (ROOT / source).exists(), f"COPY {source}: no such file or folder"
    assert 'ENTRYPOINT ["posture"]' in text
    assert 'posture = "posture.cli:main"' in (ROOT / "pyproject.toml").read_text()
    # the Japanese PDF needs a CJK font inside the image too
    assert "fonts-noto-cjk" in text
