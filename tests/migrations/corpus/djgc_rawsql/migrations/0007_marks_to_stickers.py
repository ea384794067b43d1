from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: the many-to-many now points at Sticker: Django renames the through
    table's label_id to sticker_id, changes it from bigint to integer, and drops and
    re-adds its foreign key."""

    expected_codes = {"DJG217"}

    dependencies = [("djgc_rawsql", "0006_box_labels")]

    operations = [
        migrations.AlterField(
            "box", "marks", models.ManyToManyField(related_name="boxes", to="djgc_rawsql.sticker")
        ),
    ]
