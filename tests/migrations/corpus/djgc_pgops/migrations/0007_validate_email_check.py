from django.contrib.postgres.operations import ValidateConstraint
from django.db import migrations


class Migration(migrations.Migration):
    """Safe: step 2, validation without blocking."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0006_email_not_null_check")]

    operations = [ValidateConstraint("order", "djgc_order_email_nn")]
