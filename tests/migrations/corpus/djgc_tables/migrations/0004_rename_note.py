from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: the default table name follows the model name."""

    expected_codes = {"DJG206"}

    dependencies = [("djgc_tables", "0003_delete_legacy_from_state")]

    operations = [migrations.RenameModel("Note", "Memo")]
