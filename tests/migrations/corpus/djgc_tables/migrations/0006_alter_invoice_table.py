from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: renames the table."""

    expected_codes = {"DJG207"}

    dependencies = [("djgc_tables", "0005_rename_archive_keeping_table")]

    operations = [migrations.AlterModelTable("Invoice", "djgc_invoices")]
