from django.db import migrations, models


def _id() -> models.BigAutoField:
    return models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")


class Migration(migrations.Migration):
    initial = True
    expected_codes: set[str] = set()

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            "Shelf",
            [
                ("id", _id()),
                ("name", models.CharField(max_length=50)),
                ("label", models.CharField(max_length=50, null=True)),
            ],
        ),
        migrations.CreateModel("Crate", [("id", _id()), ("code", models.CharField(max_length=20))]),
        migrations.CreateModel("Bin", [("id", _id()), ("size", models.IntegerField(null=True))]),
    ]
