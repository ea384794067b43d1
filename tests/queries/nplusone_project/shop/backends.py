"""The project's authentication backend: users log in with their email address."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or "@" not in username:
            return None  # a user name: ModelBackend's
        try:
            user = get_user_model().objects.get(email=username)
        except get_user_model().DoesNotExist:
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
