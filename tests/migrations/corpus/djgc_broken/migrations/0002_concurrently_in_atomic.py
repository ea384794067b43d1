from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """Cannot run: AddIndexConcurrently in an atomic migration."""

    expected_codes = {"DJG213"}

    dependencies = [("djgc_broken", "0001_initial")]

    operations = [AddIndexConcurrently("gadget", models.Index(fields=["name"], name="djgc_gadget_name"))]
