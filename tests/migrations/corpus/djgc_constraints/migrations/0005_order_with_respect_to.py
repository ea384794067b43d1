from django.db import migrations


class Migration(migrations.Migration):
    """Unsafe: adds the NOT NULL _order column; old code inserts without it."""

    expected_codes = {"DJG201"}

    dependencies = [("djgc_constraints", "0004_pages_check")]

    operations = [migrations.AlterOrderWithRespectTo("book", "author")]
