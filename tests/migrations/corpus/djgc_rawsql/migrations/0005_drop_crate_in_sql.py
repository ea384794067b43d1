from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: drops, in SQL, the table of a model the state still has."""

    expected_codes = {"DJG204"}

    dependencies = [("djgc_rawsql", "0004_rename_name_in_sql")]

    operations = [
        migrations.RunSQL(
            "DROP TABLE djgc_rawsql_crate",
            "CREATE TABLE djgc_rawsql_crate (id integer PRIMARY KEY, code varchar(20) NOT NULL)",
        )
    ]
