from django.db import migrations, models

from corpus_compat import check_constraint


class Migration(migrations.Migration):
    """A new nullable column and a CHECK constraint on it, validated under lock (DJG215)."""

    expected_codes = {"DJG215"}

    dependencies = [("djgc_pgops", "0023_referrer_in_sql")]

    operations = [
        migrations.AddField("order", "grade", models.CharField(max_length=5, null=True)),
        migrations.AddConstraint(
            "order", check_constraint(models.Q(grade__in=["a", "b", "c"]), "djgc_order_grade_abc")
        ),
    ]
