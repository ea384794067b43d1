from django.db import models


class Thing(models.Model):
    c = models.CharField(max_length=10, null=True)
    d = models.CharField(max_length=10, null=True)
