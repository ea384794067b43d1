from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: the column and its foreign key are written in SQL inside
    SeparateDatabaseAndState, the constraint without NOT VALID: PostgreSQL checks every
    order while blocking writes to both tables (DJG214, judged as a RunSQL on its own)."""

    expected_codes = {"DJG214"}

    dependencies = [("djgc_pgops", "0022_runsql_total_bigint")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE djgc_pgops_order ADD COLUMN referrer_id bigint NULL",
                    "ALTER TABLE djgc_pgops_order DROP COLUMN referrer_id",
                ),
                migrations.RunSQL(
                    "ALTER TABLE djgc_pgops_order ADD CONSTRAINT djgc_order_referrer_fk "
                    "FOREIGN KEY (referrer_id) REFERENCES djgc_pgops_buyer (id) "
                    "DEFERRABLE INITIALLY DEFERRED",
                    "ALTER TABLE djgc_pgops_order DROP CONSTRAINT djgc_order_referrer_fk",
                ),
            ],
            state_operations=[
                migrations.AddField(
                    "order",
                    "referrer",
                    models.ForeignKey(
                        "djgc_pgops.buyer",
                        null=True,
                        on_delete=models.SET_NULL,
                        related_name="referred",
                        db_index=False,
                    ),
                ),
            ],
        ),
    ]
