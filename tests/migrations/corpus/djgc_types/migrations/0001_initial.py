from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    expected_codes: set[str] = set()

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=10)),
                ("title", models.CharField(max_length=50, db_index=True)),
                ("price", models.DecimalField(max_digits=5, decimal_places=2)),
                ("qty", models.IntegerField()),
                ("label", models.CharField(max_length=30)),
                ("sku", models.CharField(max_length=20, null=True)),
                ("ref", models.CharField(max_length=30, db_index=True)),
                ("stock", models.IntegerField()),
            ],
        ),
    ]
