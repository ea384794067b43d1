from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    expected_codes: set[str] = set()

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Thing",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("a", models.CharField(max_length=10, null=True)),
                ("b", models.CharField(max_length=10, null=True)),
                ("c", models.CharField(max_length=10, null=True)),
            ],
        ),
    ]
