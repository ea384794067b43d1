from django.db import migrations


class Migration(migrations.Migration):
    """Safe: step two, in SQL: the state (the running code) no longer has the column or
    the table."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_rawsql", "0002_forget_label_and_bin")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE djgc_rawsql_shelf DROP COLUMN label",
            "ALTER TABLE djgc_rawsql_shelf ADD COLUMN label varchar(50) NULL",
        ),
        migrations.RunSQL(
            "DROP TABLE djgc_rawsql_bin",
            "CREATE TABLE djgc_rawsql_bin (id integer PRIMARY KEY, size integer NULL)",
        ),
    ]
