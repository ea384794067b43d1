from django.contrib.postgres.operations import AddConstraintNotValid
from django.db import migrations, models

from corpus_compat import check_constraint


class Migration(migrations.Migration):
    """Safe: step 1 of SET NOT NULL without a scan (PostgreSQL >= 12)."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0005_validate_total_check")]

    operations = [
        AddConstraintNotValid("order", check_constraint(models.Q(email__isnull=False), "djgc_order_email_nn")),
    ]
