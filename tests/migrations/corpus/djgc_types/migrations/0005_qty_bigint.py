from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: integer to bigint rewrites the table."""

    expected_codes = {"DJG208"}

    dependencies = [("djgc_types", "0004_price_precision")]

    operations = [migrations.AlterField("product", "qty", models.BigIntegerField())]
