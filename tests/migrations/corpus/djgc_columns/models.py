from django.db import models


class Customer(models.Model):
    full_name = models.CharField(max_length=100)
    state = models.CharField(max_length=20, default="new", db_column="status")
    region = models.CharField(max_length=2)
