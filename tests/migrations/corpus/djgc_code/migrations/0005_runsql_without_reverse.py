from django.db import migrations


class Migration(migrations.Migration):
    """Irreversible: no reverse_sql."""

    expected_codes = {"DJG221"}

    dependencies = [("djgc_code", "0004_runpython_imports_models")]

    operations = [migrations.RunSQL("UPDATE djgc_code_ticket SET status = 'open' WHERE status = ''")]
