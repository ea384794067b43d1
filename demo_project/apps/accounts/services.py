"""Account use cases. Views and commands call these instead of touching the ORM."""

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

if TYPE_CHECKING:
    from apps.accounts.models import User


def normalize_email(email: str) -> str:
    return email.strip().lower()


@transaction.atomic
def register_user(*, username: str, email: str, password: str) -> "User":
    """Create a user; raise ``ValidationError`` for a taken name/e-mail or a weak password."""
    user = get_user_model()(username=username, email=normalize_email(email))
    user.full_clean(exclude=["password"])
    validate_password(password, user=user)
    user.set_password(password)
    user.save()
    return user
