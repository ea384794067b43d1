from django.db import models


class Shelf(models.Model):
    name = models.CharField(max_length=50)
    labels = models.ManyToManyField("Label", through="Shelving")


class Shelving(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)
    label = models.ForeignKey("Label", on_delete=models.CASCADE)

    class Meta:
        db_table = "djgc_rawsql_shelving"


class Crate(models.Model):
    code = models.CharField(max_length=20)


class Label(models.Model):
    text = models.CharField(max_length=20)


class Sticker(models.Model):
    id = models.AutoField(primary_key=True)
    text = models.CharField(max_length=20)


class Box(models.Model):
    marks = models.ManyToManyField(Sticker, related_name="boxes")
