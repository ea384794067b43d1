from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: renaming a many-to-many field renames its auto-created join table
    (djgc_tables_box_tags to djgc_tables_box_labels), which the previous release still
    queries."""

    expected_codes = {"DJG207"}

    dependencies = [("djgc_tables", "0008_tag_and_box")]

    operations = [migrations.RenameField("box", "tags", "labels")]
