from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: varchar(5) to varchar(10) needs no rewrite, but the CHECK constraint on the
    column is re-checked against every row under ACCESS EXCLUSIVE (DJG208)."""

    expected_codes = {"DJG208"}

    dependencies = [("djgc_pgops", "0024_grade")]

    operations = [migrations.AlterField("order", "grade", models.CharField(max_length=10, null=True))]
