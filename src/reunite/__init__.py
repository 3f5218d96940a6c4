"""Reunite: find missing people, identify people of unknown origin, bring them home."""

__version__ = "0.1.0"
