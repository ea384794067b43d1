import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: no constraint and no index (both come later, concurrently / NOT VALID)."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_constraints", "0002_add_author_fk")]

    operations = [
        migrations.AddField(
            "book",
            "editor",
            models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                db_constraint=False,
                db_index=False,
                related_name="edited",
                to="djgc_constraints.author",
            ),
        ),
    ]
