from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: unique_together builds a unique index under lock."""

    expected_codes = {"DJG211"}

    dependencies = [("djgc_indexes", "0004_unique")]

    operations = [migrations.AlterUniqueTogether("event", {("kind", "at")})]
