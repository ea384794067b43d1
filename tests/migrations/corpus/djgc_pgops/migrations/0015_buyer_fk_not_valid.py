import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: step 2: the constraint NOT VALID (no scan); the state learns db_constraint."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0014_buyer_without_constraint")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE djgc_pgops_order ADD CONSTRAINT djgc_order_buyer_fk "
                    "FOREIGN KEY (buyer_id) REFERENCES djgc_pgops_buyer (id) "
                    "DEFERRABLE INITIALLY DEFERRED NOT VALID",
                    reverse_sql="ALTER TABLE djgc_pgops_order DROP CONSTRAINT djgc_order_buyer_fk",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    "order",
                    "buyer",
                    models.ForeignKey(
                        null=True,
                        db_index=False,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to="djgc_pgops.buyer",
                    ),
                ),
            ],
        ),
    ]
