from django.db import models


class Shelf(models.Model):
    name = models.CharField(max_length=50)


class Crate(models.Model):
    code = models.CharField(max_length=20)
