from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: more digits at the same scale."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_types", "0003_code_to_text")]

    operations = [
        migrations.AlterField("product", "price", models.DecimalField(max_digits=7, decimal_places=2)),
    ]
