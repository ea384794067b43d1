from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: a constant database default keeps old inserts working, without a rewrite."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_dbdefault", "0001_initial")]

    operations = [migrations.AddField("flag", "enabled", models.BooleanField(default=False, db_default=False))]
