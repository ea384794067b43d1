from django.db import migrations, models


def _id() -> models.BigAutoField:
    return models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")


class Migration(migrations.Migration):
    """Safe: new tables (the many-to-many join table djgc_tables_box_tags among them)."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_tables", "0007_alter_vault_table_unchanged")]

    operations = [
        migrations.CreateModel("Tag", [("id", _id()), ("name", models.CharField(max_length=20))]),
        migrations.CreateModel(
            "Box",
            [("id", _id()), ("tags", models.ManyToManyField(to="djgc_tables.tag"))],
        ),
    ]
