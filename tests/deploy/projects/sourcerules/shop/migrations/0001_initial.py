from django.db import migrations, models


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    table = "shop_book"
    schema_editor.execute(f"UPDATE {table} SET title = upper(title)")  # not reported: migration


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [
        migrations.CreateModel(
            name="Book",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("title", models.CharField(max_length=200)),
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
