from django.db import migrations, models


class Migration(migrations.Migration):
    """An ignore that matches nothing is reported (DJG290)."""

    gates_ignore = {"DJG201": "the column is nullable, this ignore is stale"}
    expected_codes = {"DJG290"}

    dependencies = [("djgc_ignores", "0003_operation_ignore")]

    operations = [migrations.AddField("thing", "d", models.CharField(max_length=10, null=True))]
