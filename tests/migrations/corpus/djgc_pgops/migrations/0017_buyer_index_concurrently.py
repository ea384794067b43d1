import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: step 4: the foreign key's index, concurrently."""

    atomic = False
    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0016_buyer_fk_validate")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX CONCURRENTLY djgc_order_buyer ON djgc_pgops_order (buyer_id)",
                    reverse_sql="DROP INDEX CONCURRENTLY djgc_order_buyer",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    "order",
                    "buyer",
                    models.ForeignKey(
                        null=True, on_delete=django.db.models.deletion.SET_NULL, to="djgc_pgops.buyer"
                    ),
                ),
            ],
        ),
    ]
