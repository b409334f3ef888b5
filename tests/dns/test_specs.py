"""The dns block of a collection spec: loaded, checked and its sources scanned first."""

from __future__ import annotations

from pathlib import Path

import pytest

from posture.catalog import Catalog
from posture.catalog.loader import load_specs
from posture.connectors.dns import check_dns_specs
from posture.errors import ContentError

SOURCE = """
x.dir.domain:
  service: graph
  scope: global
  list: {call: /domains}
  uid: "{id}"
"""


def load(tmp_path: Path, text: str) -> Catalog:
    (tmp_path / "specs.yaml").write_text(SOURCE + text, encoding="utf-8")
    catalog = Catalog()
    load_specs([tmp_path], catalog)
    return catalog


def test_a_dns_type_names_its_sources(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        """
x.dns.mail_domain:
  service: dns
  scope: global
  dns:
    sources: [{of: x.dir.domain, domain: id, where: isVerified}]
    dkim_selectors: [selector1]
  uid: "{domain}"
""",
    )
    spec = catalog.specs["x.dns.mail_domain"]
    assert spec.sources == ["x.dir.domain"] and spec.calls() == []
    assert check_dns_specs(list(catalog.specs.values()), set(catalog.specs)) == []


def test_an_unknown_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ContentError, match=r"dns source of unknown resource type 'x\.dir\.domains'"
    ):
        load(
            tmp_path,
            """
x.dns.mail_domain:
  service: dns
  scope: global
  dns: {sources: [{of: x.dir.domains, domain: id}], dkim_selectors: [s1]}
  uid: "{domain}"
""",
        )


def test_a_dns_type_takes_no_list(tmp_path: Path) -> None:
    with pytest.raises(ContentError):
        load(
            tmp_path,
            """
x.dns.mail_domain:
  service: dns
  scope: global
  list: {call: /domains}
  dns: {sources: [{of: x.dir.domain, domain: id}], dkim_selectors: [s1]}
  uid: "{domain}"
""",
        )


def test_bad_expressions_and_selectors_are_reported(tmp_path: Path) -> None:
    catalog = load(
        tmp_path,
        """
x.dns.mail_domain:
  service: dns
  scope: global
  dns: {sources: [{of: x.dir.domain, domain: "id[", where: ok}], dkim_selectors: ["bad one"]}
  uid: "{domain}"
""",
    )
    problems = check_dns_specs(list(catalog.specs.values()), set(catalog.specs))
    assert any("invalid JMESPath 'id['" in p for p in problems)
    assert any("not a DKIM selector" in p for p in problems)
