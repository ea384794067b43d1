from django.db import models


class Invoice(models.Model):
    number = models.CharField(max_length=20)

    class Meta:
        db_table = "djgc_invoices"


class Memo(models.Model):
    text = models.CharField(max_length=50)


class Vault(models.Model):
    label = models.CharField(max_length=50)

    class Meta:
        db_table = "djgc_archive_table"


class Tag(models.Model):
    name = models.CharField(max_length=20)


class Box(models.Model):
    labels = models.ManyToManyField(Tag)
