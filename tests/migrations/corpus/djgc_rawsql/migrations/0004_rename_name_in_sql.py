from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: renames, in SQL, a column the state (the running code) still reads."""

    expected_codes = {"DJG205"}

    dependencies = [("djgc_rawsql", "0003_drop_what_the_state_forgot")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE djgc_rawsql_shelf RENAME COLUMN name TO title",
            "ALTER TABLE djgc_rawsql_shelf RENAME COLUMN title TO name",
        )
    ]
