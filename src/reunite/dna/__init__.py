"""The DNA registry: samples with consent and chain of custody, STR profiles, QC and imports."""
