from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Never at the guessable "admin/": see DJANGO_ADMIN_URL.
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("apps.accounts.urls")),
    path("", include("apps.catalog.urls")),
    path("", include("apps.core.urls")),
]
