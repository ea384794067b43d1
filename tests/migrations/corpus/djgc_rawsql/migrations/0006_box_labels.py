from django.db import migrations, models


class Migration(migrations.Migration):
    expected_codes: set[str] = set()

    dependencies = [("djgc_rawsql", "0005_drop_crate_in_sql")]

    operations = [
        migrations.CreateModel(
            "Label",
            [
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("text", models.CharField(max_length=20)),
            ],
        ),
        migrations.CreateModel(
            "Sticker",
            [
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("text", models.CharField(max_length=20)),
            ],
        ),
        migrations.CreateModel(
            "Box",
            [
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("marks", models.ManyToManyField(related_name="boxes", to="djgc_rawsql.label")),
            ],
        ),
    ]
