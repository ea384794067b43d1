from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The project's custom user model."""
