from django.db import migrations


class Migration(migrations.Migration):
    """Safe: step 3: VALIDATE CONSTRAINT lets reads and writes continue."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0015_buyer_fk_not_valid")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE djgc_pgops_order VALIDATE CONSTRAINT djgc_order_buyer_fk",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
