import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from apps.accounts.services import register_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_project_uses_the_custom_user_model() -> None:
    assert settings.AUTH_USER_MODEL == "accounts.User"
    assert get_user_model()._meta.label == "accounts.User"


def test_register_user_normalizes_email_and_hashes_password() -> None:
    user = register_user(
        username="ada", email="  Ada@Example.COM ", password="analytical-engine-1843"
    )

    assert user.pk is not None
    assert user.email == "ada@example.com"
    assert user.check_password("analytical-engine-1843")
    assert str(user) == "ada"


def test_register_user_rejects_a_taken_email() -> None:
    UserFactory(email="ada@example.com")

    with pytest.raises(ValidationError) as excinfo:
        register_user(username="ada2", email="ADA@example.com", password="analytical-engine-1843")

    assert "email" in excinfo.value.message_dict


def test_register_user_rejects_a_weak_password() -> None:
    with pytest.raises(ValidationError):
        register_user(username="bob", email="bob@example.com", password="12345678")

    assert not get_user_model().objects.filter(username="bob").exists()
