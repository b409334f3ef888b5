"""Run ``posture demo`` as the console script does, without the reports, and record the run.

Used by ``test_demo_rerun`` in a fresh interpreter per run: moto's backends are per process,
and the demo resets them, which must not wipe the estate the other demo tests share.
Usage: ``python -m tests.demo.cli_driver RECORD.json posture-arguments...``
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import posture.demo.runner as runner
from posture.cli import app
from posture.cli.runtime import run_app


def main(record: Path, args: list[str]) -> int:
    real_run_demo = runner.run_demo

    def run_demo_without_reports(*positional: Any, **options: Any) -> runner.DemoResult:
        result = real_run_demo(*positional, **{**options, "formats": ()})
        target = result.outcome.targets[0]
        planted = sorted([r.resource_type, r.identifier] for r in result.manifest.resources)
        summary = {
            "scan_id": result.outcome.scan_id,
            "status": result.outcome.status,
            "lifecycle": asdict(target.lifecycle),
            "results": dict(target.results),
            "planted": planted,
        }
        record.write_text(json.dumps(summary), encoding="utf-8")
        return result

    runner.run_demo = run_demo_without_reports
    return run_app(app, args)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
