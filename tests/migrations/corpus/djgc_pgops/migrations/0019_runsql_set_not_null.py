from django.db import migrations


class Migration(migrations.Migration):
    """Warning: SET NOT NULL in SQL; the gate cannot see which CHECK proves it."""

    expected_codes = {"DJG210"}

    dependencies = [("djgc_pgops", "0018_runsql_check")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE djgc_pgops_order ALTER COLUMN ref SET NOT NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
