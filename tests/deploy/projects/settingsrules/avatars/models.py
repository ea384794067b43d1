from django.core.files.storage import FileSystemStorage
from django.db import models


class Avatar(models.Model):
    """Uploads through a storage of its own, on the local disk."""

    image = models.FileField(storage=FileSystemStorage(location="/srv/avatars"))
