from django.db import models


class Ticket(models.Model):
    title = models.CharField(max_length=50)
    status = models.CharField(max_length=20, default="open")
    score = models.IntegerField(null=True)
    priority = models.IntegerField(null=True)
    queue_name = models.CharField(max_length=20, null=True)
    escalated = models.BooleanField(null=True)
    source = models.CharField(max_length=10, null=True)


class Queue(models.Model):
    name = models.CharField(max_length=20)
