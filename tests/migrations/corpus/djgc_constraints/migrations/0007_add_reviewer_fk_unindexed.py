import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: a new nullable foreign key with no default and no index holds only NULLs;
    PostgreSQL adds it with its constraint without reading a row (DJG214 does not apply)."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_constraints", "0006_author_required")]

    operations = [
        migrations.AddField(
            "book",
            "reviewer",
            models.ForeignKey(
                null=True,
                db_index=False,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="djgc_constraints.author",
            ),
        ),
    ]
