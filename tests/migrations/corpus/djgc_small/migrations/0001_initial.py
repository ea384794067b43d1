from django.db import migrations, models


def _id() -> models.BigAutoField:
    return models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")


class Migration(migrations.Migration):
    """Safe: new tables."""

    expected_codes: set[str] = set()

    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            "ShippingMethod",
            [
                ("id", _id()),
                ("name", models.CharField(max_length=40)),
                ("code", models.CharField(max_length=10)),
                ("rank", models.IntegerField(null=True)),
            ],
        ),
        migrations.CreateModel("Carrier", [("id", _id()), ("name", models.CharField(max_length=40))]),
        migrations.CreateModel(
            "Parcel",
            [
                ("id", _id()),
                (
                    "method",
                    models.ForeignKey(
                        "djgc_small.shippingmethod", on_delete=models.PROTECT, db_constraint=False
                    ),
                ),
                ("weight", models.IntegerField()),
                ("label", models.CharField(max_length=40)),
            ],
        ),
    ]
