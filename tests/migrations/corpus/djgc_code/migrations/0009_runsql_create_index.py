from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe on PostgreSQL: CREATE INDEX without CONCURRENTLY, in SQL."""

    expected_codes = {"DJG211"}

    dependencies = [("djgc_code", "0008_data_alone")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX djgc_ticket_title ON djgc_code_ticket (title)",
            reverse_sql="DROP INDEX djgc_ticket_title",
        ),
    ]
