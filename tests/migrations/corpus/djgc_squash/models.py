from django.db import models


class Ledger(models.Model):
    code = models.CharField(max_length=40)
    total = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["code"], name="djgc_ledger_code")]
