from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: no validated CHECK proves the column has no NULL: full scan."""

    expected_codes = {"DJG210"}

    dependencies = [("djgc_pgops", "0011_validate_in_same_migration")]

    operations = [migrations.AlterField("order", "placed", models.DateTimeField())]
