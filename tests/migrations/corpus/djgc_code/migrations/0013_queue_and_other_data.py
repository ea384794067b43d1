from django.db import migrations, models


def tickets_per_queue(apps, schema_editor):
    Ticket = apps.get_model("djgc_code", "Ticket")
    Queue = apps.get_model("djgc_code", "Queue")
    Queue.objects.bulk_create([Queue(name="support")])
    Ticket.objects.filter(status="open").values("id").count()


class Migration(migrations.Migration):
    """Risky, not an error: the data step runs under AddField's lock on the ticket table
    but writes another table (a new one): the lock is held while it runs (DJG216
    warning), no row of the locked table is rewritten."""

    expected_codes = {"DJG216"}

    dependencies = [("djgc_code", "0012_runpython_data_through_editor")]

    operations = [
        migrations.CreateModel(
            "Queue",
            [
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=20)),
            ],
        ),
        migrations.AddField("ticket", "queue_name", models.CharField(max_length=20, null=True)),
        migrations.RunPython(tickets_per_queue, migrations.RunPython.noop),
    ]
