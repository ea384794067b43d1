from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: db_default=None is no default for a NOT NULL column."""

    expected_codes = {"DJG201"}

    dependencies = [("djgc_dbdefault", "0002_add_with_db_default")]

    operations = [migrations.AddField("flag", "level", models.IntegerField(db_default=None))]
