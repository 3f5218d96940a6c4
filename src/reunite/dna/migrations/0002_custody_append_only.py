"""Refuse UPDATE and DELETE on custody events at the database level (SQLite and PostgreSQL):
a chain of custody is only ever added to."""

from django.db import migrations

SQLITE_UP = [
    """CREATE TRIGGER dna_custody_no_update BEFORE UPDATE ON dna_custodyevent
       BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END""",
    """CREATE TRIGGER dna_custody_no_delete BEFORE DELETE ON dna_custodyevent
       BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS dna_custody_no_update",
    "DROP TRIGGER IF EXISTS dna_custody_no_delete",
]
PG_UP = [
    """CREATE OR REPLACE FUNCTION dna_custody_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'custody events are append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER dna_custody_no_change BEFORE UPDATE OR DELETE ON dna_custodyevent
       FOR EACH ROW EXECUTE FUNCTION dna_custody_append_only()""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS dna_custody_no_change ON dna_custodyevent",
    "DROP FUNCTION IF EXISTS dna_custody_append_only()",
]


def _run(statements: list[str]):  # type: ignore[no-untyped-def]
    def apply(apps, schema_editor):  # type: ignore[no-untyped-def]
        for sql in statements:
            schema_editor.execute(sql)

    return apply


def up(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(SQLITE_UP)(apps, schema_editor)
    elif vendor == "postgresql":
        _run(PG_UP)(apps, schema_editor)


def down(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(SQLITE_DOWN)(apps, schema_editor)
    elif vendor == "postgresql":
        _run(PG_DOWN)(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("dna", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
