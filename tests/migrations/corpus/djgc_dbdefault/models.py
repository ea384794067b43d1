"""Database defaults and generated fields (Django >= 5.0)."""

from django.db import models
from django.db.models.functions import Now, Random


class Flag(models.Model):
    name = models.CharField(max_length=20)
    enabled = models.BooleanField(default=False, db_default=False)
    level = models.IntegerField(db_default=None)
    rnd = models.FloatField(db_default=Random())
    created = models.DateTimeField(db_default=Now())
    double = models.GeneratedField(
        expression=models.F("id") * 2, output_field=models.BigIntegerField(), db_persist=True
    )
