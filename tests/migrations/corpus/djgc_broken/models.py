from django.db import models


class Gadget(models.Model):
    name = models.CharField(max_length=30)

    class Meta:
        indexes = [models.Index(fields=["name"], name="djgc_gadget_name")]
