from django.db import migrations, models


class Migration(migrations.Migration):
    """Safe on PostgreSQL >= 12: the validated CHECK proves there is no NULL."""

    expected_codes: set[str] = set()

    dependencies = [("djgc_pgops", "0007_validate_email_check")]

    operations = [migrations.AlterField("order", "email", models.CharField(max_length=50))]
