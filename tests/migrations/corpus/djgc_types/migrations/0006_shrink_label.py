from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: a shorter varchar checks and rewrites every row."""

    expected_codes = {"DJG208"}

    dependencies = [("djgc_types", "0005_qty_bigint")]

    operations = [migrations.AlterField("product", "label", models.CharField(max_length=10))]
