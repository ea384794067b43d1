from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: a validated CHECK added in SQL."""

    expected_codes = {"DJG215"}

    dependencies = [("djgc_pgops", "0017_buyer_index_concurrently")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE djgc_pgops_order ADD CONSTRAINT djgc_order_ref_nonempty CHECK (ref <> '')",
            reverse_sql="ALTER TABLE djgc_pgops_order DROP CONSTRAINT djgc_order_ref_nonempty",
        ),
    ]
