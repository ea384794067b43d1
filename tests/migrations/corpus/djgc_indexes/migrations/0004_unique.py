from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: unique=True adds a constraint, building its index under ACCESS EXCLUSIVE."""

    expected_codes = {"DJG211"}

    dependencies = [("djgc_indexes", "0003_db_index")]

    operations = [migrations.AlterField("event", "code", models.CharField(max_length=10, unique=True))]
