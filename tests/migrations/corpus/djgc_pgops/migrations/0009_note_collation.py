from django.db import migrations, models


class Migration(migrations.Migration):
    """Warning: a collation change on a column without a known index."""

    expected_codes = {"DJG209"}

    dependencies = [("djgc_pgops", "0008_email_required")]

    operations = [migrations.AlterField("order", "note", models.CharField(max_length=30, db_collation="C"))]
