from django.contrib.postgres.operations import AddConstraintNotValid, ValidateConstraint
from django.db import migrations, models

from corpus_compat import check_constraint


class Migration(migrations.Migration):
    """Unsafe: validating in the transaction that added it keeps ACCESS EXCLUSIVE."""

    expected_codes = {"DJG215"}

    dependencies = [("djgc_pgops", "0010_code_collation")]

    operations = [
        AddConstraintNotValid("order", check_constraint(models.Q(total__lte=1000000), "djgc_order_total_max")),
        ValidateConstraint("order", "djgc_order_total_max"),
    ]
