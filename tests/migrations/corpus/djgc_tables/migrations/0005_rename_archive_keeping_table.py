from django.db import migrations


class Migration(migrations.Migration):
    """Safe: Meta.db_table pins the table."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_tables", "0004_rename_note")]

    operations = [migrations.RenameModel("Archive", "Vault")]
