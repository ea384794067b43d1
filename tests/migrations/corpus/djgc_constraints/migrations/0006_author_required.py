import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: SET NOT NULL scans the table, and Django re-creates the foreign key."""

    expected_codes = {"DJG210", "DJG214"}

    dependencies = [("djgc_constraints", "0005_order_with_respect_to")]

    operations = [
        migrations.AlterField(
            "book",
            "author",
            models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="djgc_constraints.author"),
        ),
    ]
