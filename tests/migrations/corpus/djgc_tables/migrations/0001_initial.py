from django.db import migrations, models


def _id() -> models.BigAutoField:
    return models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")


class Migration(migrations.Migration):
    initial = True
    expected_codes: set[str] = set()

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel("Invoice", [("id", _id()), ("number", models.CharField(max_length=20))]),
        migrations.CreateModel("Draft", [("id", _id()), ("title", models.CharField(max_length=50))]),
        migrations.CreateModel("Legacy", [("id", _id()), ("x", models.CharField(max_length=50))]),
        migrations.CreateModel("Note", [("id", _id()), ("text", models.CharField(max_length=50))]),
        migrations.CreateModel(
            "Archive",
            [("id", _id()), ("label", models.CharField(max_length=50))],
            options={"db_table": "djgc_archive_table"},
        ),
    ]
