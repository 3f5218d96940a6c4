"""Package data of the kinship engine (no code)."""
