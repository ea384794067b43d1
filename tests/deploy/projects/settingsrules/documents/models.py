from django.db import models


class Document(models.Model):
    """Uploads through the default storage."""

    file = models.FileField(upload_to="documents/")
