from django.db import migrations, models


def _id() -> models.BigAutoField:
    return models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")


class Migration(migrations.Migration):
    initial = True
    expected_codes: set[str] = set()

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel("Author", [("id", _id()), ("name", models.CharField(max_length=50))]),
        migrations.CreateModel(
            "Book",
            [("id", _id()), ("title", models.CharField(max_length=50)), ("pages", models.IntegerField())],
        ),
    ]
