from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    expected_codes: set[str] = set()

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Gadget",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=30)),
            ],
        ),
    ]
