"""Code written before the custom user model: both imports are DJG304."""

import django.contrib.auth.models
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User


def staff_count() -> int:
    return User.objects.filter(is_staff=True).count()


def superusers() -> int:
    return django.contrib.auth.models.User.objects.filter(is_superuser=True).count()


def fine() -> int:
    return get_user_model().objects.count()
