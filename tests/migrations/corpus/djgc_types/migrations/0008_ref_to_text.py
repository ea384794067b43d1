from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: varchar to text on an indexed column re-creates its pattern-ops index
    (Django < 5.2 drops it without re-creating it)."""

    expected_codes = {"DJG211"}
    expected_codes_before_django_52 = {"DJG212"}

    dependencies = [("djgc_types", "0007_sku_not_null")]

    operations = [migrations.AlterField("product", "ref", models.TextField(db_index=True))]
