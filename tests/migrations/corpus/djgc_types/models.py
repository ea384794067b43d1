from django.db import models


class Product(models.Model):
    code = models.TextField()
    title = models.CharField(max_length=50, db_index=True)
    price = models.DecimalField(max_digits=7, decimal_places=2)
    qty = models.BigIntegerField()
    label = models.CharField(max_length=10)
    sku = models.CharField(max_length=20, default="")
    ref = models.TextField(db_index=True)
    stock = models.PositiveIntegerField()
