from django.db import migrations, models


def _id() -> models.BigAutoField:
    return models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")


class Migration(migrations.Migration):
    initial = True
    expected_codes: set[str] = set()

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel("Buyer", [("id", _id()), ("name", models.CharField(max_length=50))]),
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", _id()),
                ("ref", models.CharField(max_length=20)),
                ("code", models.CharField(max_length=20, db_index=True)),
                ("total", models.IntegerField(null=True)),
                ("note", models.CharField(max_length=30)),
                ("email", models.CharField(max_length=50, null=True)),
                ("placed", models.DateTimeField(null=True)),
            ],
        ),
    ]
