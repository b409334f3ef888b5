"""Fixtures of the report tests; the data itself lives in ``report_support``."""

from __future__ import annotations

import pytest

from posture.report.model import ReportData
from tests.report.report_support import make_report_data


@pytest.fixture
def report_data() -> ReportData:
    return make_report_data()
