from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: drops a table the running code queries."""

    expected_codes = {"DJG204"}

    dependencies = [("djgc_tables", "0001_initial")]

    operations = [migrations.DeleteModel("Draft")]
