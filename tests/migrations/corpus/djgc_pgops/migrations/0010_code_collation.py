from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: the collation change rebuilds the column's index under lock."""

    expected_codes = {"DJG209"}

    dependencies = [("djgc_pgops", "0009_note_collation")]

    operations = [
        migrations.AlterField(
            "order", "code", models.CharField(max_length=20, db_index=True, db_collation="C")
        ),
    ]
