from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: a NOT NULL column whose default only Python knows."""

    expected_codes = {"DJG201"}

    dependencies = [("djgc_columns", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="status",
            field=models.CharField(default="new", max_length=20),
        ),
    ]
