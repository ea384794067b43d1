import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: step 1 of a foreign key: the column, no constraint, no index."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0013_runsql_concurrently")]

    operations = [
        migrations.AddField(
            "order",
            "buyer",
            models.ForeignKey(
                null=True,
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.SET_NULL,
                to="djgc_pgops.buyer",
            ),
        ),
    ]
