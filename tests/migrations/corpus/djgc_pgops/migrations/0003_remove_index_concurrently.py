from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    """Safe: DROP INDEX CONCURRENTLY, outside a transaction."""

    atomic = False
    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0002_index_concurrently")]

    operations = [RemoveIndexConcurrently("order", "djgc_order_ref")]
