from django.db import migrations, models


class Migration(migrations.Migration):
    """Index builds without CONCURRENTLY: on the two declared small tables a warning (the
    build is brief), on the growing one an error. All three DJG211."""

    expected_codes = {"DJG211"}

    dependencies = [("djgc_small", "0001_initial")]

    operations = [
        migrations.AlterField("shippingmethod", "name", models.CharField(max_length=40, db_index=True)),
        migrations.AlterField("carrier", "name", models.CharField(max_length=40, db_index=True)),
        migrations.AlterField("parcel", "label", models.CharField(max_length=40, db_index=True)),
    ]
