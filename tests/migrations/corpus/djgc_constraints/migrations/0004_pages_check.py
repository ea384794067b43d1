from django.db import migrations, models

from corpus_compat import check_constraint


class Migration(migrations.Migration):
    """Unsafe: ADD CONSTRAINT ... CHECK validates every row under ACCESS EXCLUSIVE."""

    expected_codes = {"DJG215"}

    dependencies = [("djgc_constraints", "0003_add_editor_without_constraint")]

    operations = [
        migrations.AddConstraint("book", check_constraint(models.Q(pages__gte=0), "djgc_book_pages_gte_0")),
    ]
