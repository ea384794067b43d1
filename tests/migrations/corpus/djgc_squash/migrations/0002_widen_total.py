from django.db import migrations, models


class Migration(migrations.Migration):
    """Replaced by 0002_squashed_0003: never walked while the squash stands in for it."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_squash", "0001_initial")]

    operations = [migrations.AlterField("Ledger", "total", models.BigIntegerField(default=0))]
