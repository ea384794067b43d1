from django.db import migrations, models


class Migration(migrations.Migration):
    """Unsafe: the join table becomes a through model of its own, and the SQL that goes
    with it renames the table the released code still reads on every shelf's labels
    (DJG207): raw SQL inside SeparateDatabaseAndState is judged as on its own, the state
    operations telling which tables the code knows."""

    expected_codes = {"DJG207"}

    dependencies = [("djgc_rawsql", "0008_shelf_labels")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE djgc_rawsql_shelf_labels RENAME TO djgc_rawsql_shelving",
                    "ALTER TABLE djgc_rawsql_shelving RENAME TO djgc_rawsql_shelf_labels",
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    "Shelving",
                    [
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("shelf", models.ForeignKey("djgc_rawsql.shelf", on_delete=models.CASCADE)),
                        ("label", models.ForeignKey("djgc_rawsql.label", on_delete=models.CASCADE)),
                    ],
                    options={"db_table": "djgc_rawsql_shelving"},
                ),
                migrations.AlterField(
                    "shelf",
                    "labels",
                    models.ManyToManyField(through="djgc_rawsql.Shelving", to="djgc_rawsql.label"),
                ),
            ],
        ),
    ]
