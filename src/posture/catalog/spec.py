"""Collection specs: which API call lists a resource type, which calls add detail.

One generic collector per provider executes these; adding a resource type is a YAML change.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CallSpec(_Strict):
    """One API operation (boto3 snake_case name) and how to read its response."""

    call: str
    service: str | None = None  # defaults to the resource type's service
    args: dict[str, Any] = Field(default_factory=dict)
    # JMESPath into the (merged) response: a list for `list`, any value for `detail`
    items: str | None = None
    pick: str | None = None
    # error codes meaning "not configured", not a failure of collection
    absent_on: list[str] = Field(default_factory=list)
    default: Any = None
    transform: str | None = None  # name in the connector's transform registry
    # force a region: "us-east-1" for a global API, or a template such as "{HomeRegion}"
    region: str | None = None
    paginate: bool = True


class JoinSpec(_Strict):
    """One call per region whose items are matched to resources by a key (e.g. flow logs)."""

    call: str
    service: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    items: str
    key: str  # field of each joined item
    match: str  # template rendered on the resource, compared with ``key``
    many: bool = True  # a list of matches (True) or the first match (False)
    absent_on: list[str] = Field(default_factory=list)
    transform: str | None = None
    region: str | None = None  # template, e.g. "{LogGroupArn|arn_region}"


class DetailSpec(CallSpec):
    call: str = ""
    join: JoinSpec | None = None
    # JMESPath into the document: without a value there, the detail is `default`, no call made
    only_if: str | None = None
    # error codes meaning "posture cannot see this by design" (a bucket in another account):
    # the detail is `default` and the code is recorded under ``_unknown.<detail>``, which a
    # policy's ``unknown_when`` tests; not a failure of collection
    unknown_on: list[str] = Field(default_factory=list)
    # JMESPath into the document: the `unknown_on` codes count as unknown only when it has a
    # value (e.g. "!own_bucket": the bucket is not one of the account's); otherwise they fail
    # the detail like any other error
    unknown_if: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> DetailSpec:
        if bool(self.call) == bool(self.join):
            raise ValueError("a detail needs either 'call' or 'join'")
        if self.join and self.unknown_on:
            raise ValueError("'unknown_on' applies to a detail's own call, not to a 'join'")
        if self.unknown_if and not self.unknown_on:
            raise ValueError("'unknown_if' needs the 'unknown_on' codes it qualifies")
        return self


class AggregateSpec(_Strict):
    of: str
    key: str = "items"


class DnsSourceSpec(_Strict):
    """Where a DNS type finds its domains: documents of another type of the same scan."""

    of: str  # the resource type whose documents name the domains
    items: str | None = None  # JMESPath to a list of entries in each document (default: it)
    where: str | None = None  # JMESPath on an entry: a mail domain when it has a true value
    domain: str  # JMESPath on an entry: the domain name
    copy_fields: dict[str, str] = Field(default_factory=dict, alias="copy")  # name -> JMESPath


class DnsSpec(_Strict):
    """SPF, DMARC and DKIM records of every domain the sources name (connectors/dns.py)."""

    sources: list[DnsSourceSpec] = Field(min_length=1)
    dkim_selectors: list[str] = Field(min_length=1)  # overridden by a connection's setting


class ParentSpec(_Strict):
    """A listing whose items the next level (or the type's own call) runs once per item of:
    its templates read ``{parent.FIELD}`` (Google Cloud: locations -> key rings -> keys)."""

    call: str
    service: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    items: str
    absent_on: list[str] = Field(default_factory=list)


class ListSpec(CallSpec):
    single: bool = False  # the call returns one object; the type has one resource per scope
    # Google Cloud: listings run first, the type's call once per item of the last one
    parents: list[ParentSpec] = Field(default_factory=list)


class ResourceSpec(_Strict):
    """How one resource type is collected."""

    type: str = ""
    service: str
    # aws: global | regional; m365, gws: global; gcp: project | organization
    scope: Literal["global", "regional", "project", "organization"]
    description: str = ""
    listing: ListSpec | None = Field(default=None, alias="list")
    aggregate: AggregateSpec | None = None
    dns: DnsSpec | None = None
    uid: str
    name: str = "{uid}"
    region: str | None = None  # template; defaults to the region the call ran in
    tags: str | None = None  # JMESPath to a tag list (Key/Value) or map
    detail: dict[str, DetailSpec] = Field(default_factory=dict)
    # resource-level enrichers (connector code) run after every detail, in order
    enrich: list[str] = Field(default_factory=list)
    permissions: list[str] = Field(default_factory=list)  # extra ones beyond the calls
    # top-level fields of the document that statements may name, beyond the details
    # (fields of the listed item, or fields a transform or enricher adds)
    fields: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _source(self) -> ResourceSpec:
        if [bool(self.listing), bool(self.aggregate), bool(self.dns)].count(True) != 1:
            raise ValueError("a resource type needs exactly one of 'list', 'aggregate' or 'dns'")
        if (self.aggregate or self.dns) and self.detail:
            raise ValueError("an aggregate or dns resource type takes no 'detail'")
        return self

    @property
    def provider(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def unknown_details(self) -> list[str]:
        """Details that may record an ``unknown_on`` answer under ``_unknown``."""
        return [name for name, d in self.detail.items() if d.unknown_on]

    @property
    def sources(self) -> list[str]:
        """The types whose documents this type is built from (aggregate or dns)."""
        if self.aggregate:
            return [self.aggregate.of]
        if self.dns:
            return [s.of for s in self.dns.sources]
        return []

    def calls(self) -> list[tuple[str, str]]:
        """(service, operation) of every call this spec makes, for permissions."""
        out: list[tuple[str, str]] = []
        if self.listing:
            for parent in self.listing.parents:
                out.append((parent.service or self.service, parent.call))
            out.append((self.listing.service or self.service, self.listing.call))
        for detail in self.detail.values():
            if detail.join:
                out.append((detail.join.service or self.service, detail.join.call))
            else:
                out.append((detail.service or self.service, detail.call))
        return out
