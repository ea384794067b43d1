from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: varchar growth is binary compatible."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_types", "0001_initial")]

    operations = [migrations.AlterField("product", "code", models.CharField(max_length=20))]
