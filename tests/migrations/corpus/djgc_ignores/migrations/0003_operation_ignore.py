from django.db import migrations

from pytest_django_gates.migrations import IgnoreRule


class Migration(migrations.Migration):
    """DJG203 ignored with the no-op IgnoreRule operation."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_ignores", "0002_attribute_ignore")]

    operations = [
        IgnoreRule("DJG203", reason="column b has been unused since release 12"),
        migrations.RemoveField("thing", "b"),
    ]
