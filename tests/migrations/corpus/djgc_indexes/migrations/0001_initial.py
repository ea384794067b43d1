from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe: an index on a table created in the same migration."""

    initial = True
    expected_codes: set[str] = set()

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Event",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=20)),
                ("at", models.DateTimeField()),
                ("name", models.CharField(max_length=30)),
                ("code", models.CharField(max_length=10)),
            ],
        ),
        migrations.AddIndex("event", models.Index(fields=["kind"], name="djgc_event_kind_new")),
    ]
