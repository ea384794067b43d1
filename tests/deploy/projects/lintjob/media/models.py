from django.db import models


class Upload(models.Model):
    """Uploads through the default storage."""

    file = models.FileField(upload_to="uploads/")
