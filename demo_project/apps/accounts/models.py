from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """The project's user model, in place from the first migration.

    Reference it as ``settings.AUTH_USER_MODEL`` (relations) or
    ``get_user_model()`` (code), never directly.
    """

    email = models.EmailField("email address", unique=True)

    def __str__(self) -> str:
        return self.get_username()
