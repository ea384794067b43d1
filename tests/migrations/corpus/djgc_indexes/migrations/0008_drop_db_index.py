from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: db_index=False drops the index without CONCURRENTLY."""

    expected_codes = {"DJG212"}

    dependencies = [("djgc_indexes", "0007_remove_index")]

    operations = [migrations.AlterField("event", "name", models.CharField(max_length=30))]
