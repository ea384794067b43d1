from django.db import migrations, models


def forwards(apps, schema_editor):
    apps.get_model("djgc_squash", "Ledger").objects.update(code="x")


class Migration(migrations.Migration):
    """Replaced by 0002_squashed_0003."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_squash", "0002_widen_total")]

    operations = [
        migrations.AlterField("Ledger", "code", models.CharField(max_length=40)),
        migrations.AddIndex("Ledger", models.Index(fields=["code"], name="djgc_ledger_code")),
        migrations.RunPython(forwards),
    ]
