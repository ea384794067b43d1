from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: the backfill of the existing ticket table is written in SQL and runs under
    the ACCESS EXCLUSIVE lock AddField took on it (DJG216 error)."""

    expected_codes = {"DJG216"}

    dependencies = [("djgc_code", "0013_queue_and_other_data")]

    operations = [
        migrations.AddField("ticket", "escalated", models.BooleanField(null=True)),
        migrations.RunSQL(
            "UPDATE djgc_code_ticket SET escalated = false WHERE escalated IS NULL",
            migrations.RunSQL.noop,
        ),
    ]
