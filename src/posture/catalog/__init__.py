"""Load and validate the content folders: collection specs, policies and frameworks."""

from posture.catalog.loader import Catalog, load_catalog
from posture.catalog.policy import LocalizedText, Policy, PolicyTestCase
from posture.catalog.spec import ResourceSpec

__all__ = ["Catalog", "LocalizedText", "Policy", "PolicyTestCase", "ResourceSpec", "load_catalog"]
