from django.db import migrations


class Migration(migrations.Migration):
    """Safe: the table name does not change."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_tables", "0006_alter_invoice_table")]

    operations = [migrations.AlterModelTable("Vault", "djgc_archive_table")]
