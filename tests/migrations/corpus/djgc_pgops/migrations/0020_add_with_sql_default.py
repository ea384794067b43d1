from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe (the pattern before db_default): a NOT NULL column whose database default the
    same atomic migration sets in SQL, so the old code's inserts get it (no DJG201)."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0019_runsql_set_not_null")]

    operations = [
        migrations.AddField("buyer", "tier", models.IntegerField(default=0)),
        migrations.RunSQL(
            "ALTER TABLE djgc_pgops_buyer ALTER COLUMN tier SET DEFAULT 0",
            "ALTER TABLE djgc_pgops_buyer ALTER COLUMN tier DROP DEFAULT",
        ),
    ]
