from django.db import migrations


class Migration(migrations.Migration):
    """Safe: a reverse."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_code", "0005_runsql_without_reverse")]

    operations = [
        migrations.RunSQL(
            "UPDATE djgc_code_ticket SET score = 0 WHERE score IS NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
