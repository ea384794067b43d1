from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: PositiveIntegerField adds a validated CHECK (stock >= 0)."""

    expected_codes = {"DJG215"}

    dependencies = [("djgc_types", "0008_ref_to_text")]

    operations = [migrations.AlterField("product", "stock", models.PositiveIntegerField())]
