from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: db_index=True builds an index without CONCURRENTLY."""

    expected_codes = {"DJG211"}

    dependencies = [("djgc_indexes", "0002_add_index")]

    operations = [migrations.AlterField("event", "name", models.CharField(max_length=30, db_index=True))]
