from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: drops a column the running code selects."""

    expected_codes = {"DJG203"}

    dependencies = [("djgc_columns", "0003_add_nullable")]

    operations = [
        migrations.RemoveField("customer", "nickname"),
    ]
