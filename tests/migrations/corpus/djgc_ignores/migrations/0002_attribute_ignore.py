from django.db import migrations


class Migration(migrations.Migration):
    """DJG203 ignored with the class attribute (no dependency on the package)."""

    gates_ignore = {"DJG203": "column a has been unused since release 12"}
    expected_codes: set[str] = set()

    dependencies = [("djgc_ignores", "0001_initial")]

    operations = [migrations.RemoveField("thing", "a")]
