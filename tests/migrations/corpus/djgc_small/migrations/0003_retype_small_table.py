from django.db import migrations, models


class Migration(migrations.Migration):
    """varchar(10) -> text is binary compatible (safe); SET NOT NULL scans the table
    (DJG210): a warning on the declared small table."""

    expected_codes = {"DJG210"}

    dependencies = [("djgc_small", "0002_index_small_tables")]

    operations = [
        migrations.AlterField("shippingmethod", "code", models.TextField()),
        migrations.AlterField("shippingmethod", "rank", models.IntegerField(default=0)),
    ]
