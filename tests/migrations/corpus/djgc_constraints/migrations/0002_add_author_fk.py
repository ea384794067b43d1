import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: the constraint is validated (and the index built) under lock."""

    expected_codes = {"DJG211", "DJG214"}

    dependencies = [("djgc_constraints", "0001_initial")]

    operations = [
        migrations.AddField(
            "book",
            "author",
            models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, to="djgc_constraints.author"
            ),
        ),
    ]
