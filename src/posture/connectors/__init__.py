"""Connectors turn collection specs and credentials into an inventory. They never import
the engine, the store or a report."""

from posture.connectors.inventory import Inventory, ScopeFailure, TypeStats

__all__ = ["Inventory", "ScopeFailure", "TypeStats"]
