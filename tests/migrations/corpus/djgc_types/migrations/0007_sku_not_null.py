from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock."""

    expected_codes = {"DJG210"}

    dependencies = [("djgc_types", "0006_shrink_label")]

    operations = [migrations.AlterField("product", "sku", models.CharField(max_length=20, default=""))]
