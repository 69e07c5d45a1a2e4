"""Indexes every sync write pays for and no query needs.

A foreign key's own index is dropped where a composite index starting with the
same column already answers every lookup by it (the foreign key itself stays):
customer → legal entity (customer_entity_status_name), invoice → customer
(invoice_customer_issued), invoice → legal entity
(invoice_number_unique_per_entity), external id → content type
(external_ref_target), event → subject type (event_subject).

On PostgreSQL Django also gives the unique customer number a second index with
`varchar_pattern_ops`, for `LIKE 'prefix%'`; no query matches customer numbers
by prefix (search compares the number exactly, which the unique index answers),
so it goes too. The unique constraint is untouched."""

import django.db.models.deletion
from django.db import migrations, models

_PATTERN_INDEX_SQL = (
    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
    "AND tablename = 'revops_customer' AND indexdef LIKE '%%(number varchar_pattern_ops)%%'"
)


_FIELDS = [
    ("businessevent", "subject_type", {"to": "contenttypes.contenttype"}),
    ("customer", "legal_entity", {"related_name": "customers", "to": "revops.legalentity"}),
    ("externalref", "content_type", {"to": "contenttypes.contenttype"}),
    ("invoice", "customer", {"related_name": "invoices", "to": "revops.customer"}),
    ("invoice", "legal_entity", {"related_name": "invoices", "to": "revops.legalentity"}),
]


def _index_names(apps, schema_editor):
    """(table, column, the name Django gave the foreign key's index)."""
    for model_name, name, _ in _FIELDS:
        model = apps.get_model("revops", model_name)
        table, column = model._meta.db_table, model._meta.get_field(name).column
        yield table, column, schema_editor._create_index_name(table, [column])


def drop_indexes(apps, schema_editor):
    for _, _, index in _index_names(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")


def create_indexes(apps, schema_editor):
    for table, column, index in _index_names(apps, schema_editor):
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(index)} ON {quote(table)} ({quote(column)})"
        )


def drop_number_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_PATTERN_INDEX_SQL)
        names = [row[0] for row in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create_number_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS revops_customer_number_f97a4026_like "
        "ON revops_customer (number varchar_pattern_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("revops", "0016_business_event_type_time_index"),
    ]

    operations = [
        # The state learns db_index=False; the database only loses the index
        # (AlterField would also drop and re-add, so re-check, each foreign key).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name=model_name,
                    name=name,
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.PROTECT, **kwargs
                    ),
                )
                for model_name, name, kwargs in _FIELDS
            ],
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
        ),
        migrations.RunPython(drop_number_pattern_index, create_number_pattern_index),
    ]
