from django.contrib.postgres.operations import ValidateConstraint
from django.db import migrations


class Migration(migrations.Migration):
    """Safe: VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE; reads and writes go on."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0004_total_check_not_valid")]

    operations = [ValidateConstraint("order", "djgc_order_total_gte_0")]
