from django.contrib.postgres.operations import AddConstraintNotValid
from django.db import migrations, models

from corpus_compat import check_constraint


class Migration(migrations.Migration):
    """Safe: NOT VALID skips the scan of existing rows."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0003_remove_index_concurrently")]

    operations = [
        AddConstraintNotValid("order", check_constraint(models.Q(total__gte=0), "djgc_order_total_gte_0")),
    ]
