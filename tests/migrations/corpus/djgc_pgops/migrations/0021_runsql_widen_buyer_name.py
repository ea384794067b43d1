from django.db import migrations


class Migration(migrations.Migration):
    """Safe: a varchar grows in SQL, which PostgreSQL does without rewriting or scanning
    the table (the column has no CHECK constraint: one would be validated again)."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0020_add_with_sql_default")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE djgc_pgops_buyer ALTER COLUMN name TYPE varchar(100)",
            "ALTER TABLE djgc_pgops_buyer ALTER COLUMN name TYPE varchar(50)",
        ),
    ]
