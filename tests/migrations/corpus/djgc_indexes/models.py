from django.db import models


class Event(models.Model):
    kind = models.CharField(max_length=20)
    at = models.DateTimeField()
    name = models.CharField(max_length=30)
    code = models.CharField(max_length=10, unique=True)

    class Meta:
        indexes = [models.Index(fields=["kind"], name="djgc_event_kind_new")]
        unique_together = [("kind", "at")]
        constraints = [models.UniqueConstraint(fields=["name", "at"], name="djgc_event_name_at")]
