"""On PostgreSQL, a trigram index makes "name contains" search fast at a million
customers. Django's icontains compiles to UPPER(name::text) LIKE UPPER('%term%'),
so the index is on that same expression. SQLite has no trigram indexes; the
embedded default scans, which is fine at its sizes."""

from django.db import migrations

INDEX = "customer_name_upper_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON revops_customer USING gin ((UPPER(name::text)) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("revops", "0003_schedule_contract_expiry")]

    operations = [migrations.RunPython(create_index, drop_index)]
