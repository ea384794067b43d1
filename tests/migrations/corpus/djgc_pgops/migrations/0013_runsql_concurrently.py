from django.db import migrations


class Migration(migrations.Migration):
    """Safe: CREATE INDEX CONCURRENTLY in SQL, in a non-atomic migration."""

    atomic = False
    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0012_placed_required")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY djgc_order_note ON djgc_pgops_order (note)",
            reverse_sql="DROP INDEX CONCURRENTLY djgc_order_note",
        ),
    ]
