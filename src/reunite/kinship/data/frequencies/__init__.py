"""Published STR allele frequency tables; see README.md and index.json here."""
