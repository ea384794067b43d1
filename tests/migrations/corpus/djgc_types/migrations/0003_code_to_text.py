from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: varchar to text is binary compatible (the column has no index)."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_types", "0002_widen_code")]

    operations = [migrations.AlterField("product", "code", models.TextField())]
