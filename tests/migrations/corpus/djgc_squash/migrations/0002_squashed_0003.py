from django.db import migrations, models


def forwards(apps, schema_editor):
    apps.get_model("djgc_squash", "Ledger").objects.update(code="x")


class Migration(migrations.Migration):
    """A squash runs only on a database that never applied what it replaces: an empty
    one. The type change, the column change and the plain index (DJG208, DJG211 on a
    live table) take no lock worth reporting there; the RunPython without a reverse
    (DJG220) is still irreversible."""

    expected_codes = {"DJG220"}

    replaces = [("djgc_squash", "0002_widen_total"), ("djgc_squash", "0003_index_code")]

    dependencies = [("djgc_squash", "0001_initial")]

    operations = [
        migrations.AlterField("Ledger", "total", models.BigIntegerField(default=0)),
        migrations.AlterField("Ledger", "code", models.CharField(max_length=40)),
        migrations.AddIndex("Ledger", models.Index(fields=["code"], name="djgc_ledger_code")),
        migrations.RunPython(forwards),
    ]
