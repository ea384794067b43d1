from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: CREATE INDEX CONCURRENTLY, outside a transaction."""

    atomic = False
    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0001_initial")]

    operations = [AddIndexConcurrently("order", models.Index(fields=["ref"], name="djgc_order_ref"))]
