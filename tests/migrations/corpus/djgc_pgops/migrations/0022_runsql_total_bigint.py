from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: integer to bigint in SQL rewrites the table under ACCESS EXCLUSIVE
    (DJG208, as the AlterField would be)."""

    expected_codes = {"DJG208"}

    dependencies = [("djgc_pgops", "0021_runsql_widen_buyer_name")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE djgc_pgops_order ALTER COLUMN total SET DATA TYPE bigint",
            "ALTER TABLE djgc_pgops_order ALTER COLUMN total TYPE integer",
        ),
    ]
