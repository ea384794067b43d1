from django.db import models


class Shelf(models.Model):
    name = models.CharField(max_length=50)


class Crate(models.Model):
    code = models.CharField(max_length=20)


class Label(models.Model):
    text = models.CharField(max_length=20)


class Sticker(models.Model):
    id = models.AutoField(primary_key=True)
    text = models.CharField(max_length=20)


class Box(models.Model):
    marks = models.ManyToManyField(Sticker, related_name="boxes")
