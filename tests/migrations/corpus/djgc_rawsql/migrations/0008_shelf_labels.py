from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: a new many-to-many field creates its join table djgc_rawsql_shelf_labels."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_rawsql", "0007_marks_to_stickers")]

    operations = [
        migrations.AddField("shelf", "labels", models.ManyToManyField(to="djgc_rawsql.label")),
    ]
