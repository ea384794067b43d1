from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: ADD CONSTRAINT ... UNIQUE takes an ACCESS EXCLUSIVE lock while it builds."""

    expected_codes = {"DJG211"}

    dependencies = [("djgc_indexes", "0005_unique_together")]

    operations = [
        migrations.AddConstraint(
            "event", models.UniqueConstraint(fields=["name", "at"], name="djgc_event_name_at")
        ),
    ]
