from django.db import models
from django.db.models.signals import post_save
from django.dispatch import receiver


class Item(models.Model):
    name = models.CharField(max_length=50)
    stock = models.IntegerField(default=0)


class Tag(models.Model):
    label = models.CharField(max_length=50)
    slug = models.CharField(max_length=50, blank=True)

    def save(self, *args, **kwargs):
        self.slug = self.label.lower()
        super().save(*args, **kwargs)


@receiver(post_save, sender=Tag)
def tag_saved(sender, instance, **kwargs):
    pass
