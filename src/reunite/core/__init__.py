"""Shared building blocks used by several domain apps (not a Django app itself)."""
