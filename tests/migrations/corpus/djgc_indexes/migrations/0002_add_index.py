from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: CREATE INDEX blocks writes while it builds."""

    expected_codes = {"DJG211"}

    dependencies = [("djgc_indexes", "0001_initial")]

    operations = [migrations.AddIndex("event", models.Index(fields=["at"], name="djgc_event_at"))]
