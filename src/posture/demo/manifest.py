"""What a demo estate contains: planted resources, the verdict each should get, and the gaps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Verdict = Literal["bad", "good"]

#: Name of the in-process helper an expectation depends on (see ``posture.demo.estate``).
InProcessStep = Literal["backdate_iam", "settle_config_recorders"]


@dataclass(frozen=True)
class PlantedResource:
    """One resource as the scanner will see it, and how the CIS controls should judge it.

    ``expected`` applies to every control in ``controls``: a "bad" resource should fail each
    of them, a "good" one pass each of them. The same AWS object can appear several times,
    once per scanner resource type (an IAM user is both ``aws.iam.user`` and a row of
    ``aws.iam.credential_report``) or once per verdict (the IAM account fails 2.8 but passes
    2.15).
    """

    resource_type: str  # scanner resource type, e.g. "aws.s3.bucket"
    identifier: str  # natural id: bucket name, sg-..., user name, trail name, region...
    expected: Verdict
    controls: tuple[str, ...]  # CIS AWS v7.0 control ids
    region: str | None = None  # None for global resources (IAM, S3 buckets are listed globally)
    name: str | None = None  # display name where it differs from the identifier
    note: str = ""
    requires: InProcessStep | None = None  # holds only after this in-process helper ran

    @property
    def key(self) -> tuple[str, str]:
        return (self.resource_type, self.identifier)


@dataclass
class Planted:
    """Accumulator filled by the per-service planters."""

    resources: list[PlantedResource] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    def add(
        self,
        resource_type: str,
        identifier: str,
        expected: Verdict,
        controls: Iterable[str],
        note: str = "",
        *,
        region: str | None = None,
        name: str | None = None,
        requires: InProcessStep | None = None,
    ) -> None:
        self.resources.append(
            PlantedResource(
                resource_type,
                identifier,
                expected,
                tuple(controls),
                region=region,
                name=name,
                note=note,
                requires=requires,
            )
        )

    def merge(self, other: Planted) -> None:
        self.resources.extend(other.resources)
        self.gaps.extend(gap for gap in other.gaps if gap not in self.gaps)


@dataclass(frozen=True)
class Expectation:
    """One (resource, control) pair and the verdict a correct policy must reach."""

    resource_type: str
    identifier: str
    control: str
    expected: Verdict
    region: str | None


@dataclass
class EstateManifest:
    """Everything :func:`posture.demo.estate.plant_estate` created."""

    endpoint_url: str
    account_id: str
    regions: tuple[str, ...]
    scale: int
    resources: list[PlantedResource] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    def bad(self) -> list[PlantedResource]:
        return [r for r in self.resources if r.expected == "bad"]

    def good(self) -> list[PlantedResource]:
        return [r for r in self.resources if r.expected == "good"]

    def of_type(self, resource_type: str) -> list[PlantedResource]:
        return [r for r in self.resources if r.resource_type == resource_type]

    def for_control(self, control: str) -> list[PlantedResource]:
        return [r for r in self.resources if control in r.controls]

    def find(self, resource_type: str, identifier: str) -> list[PlantedResource]:
        return [r for r in self.resources if r.key == (resource_type, identifier)]

    def expectations(self, *, steps: Iterable[InProcessStep] = ()) -> list[Expectation]:
        """Flatten to one row per control, leaving out rows whose in-process step did not run."""
        done = set(steps)
        return [
            Expectation(r.resource_type, r.identifier, control, r.expected, r.region)
            for r in self.resources
            if r.requires is None or r.requires in done
            for control in r.controls
        ]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["regions"] = list(self.regions)
        for item in data["resources"]:
            item["controls"] = list(item["controls"])
        return data
