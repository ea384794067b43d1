"""No health-check route; /status/ answers (deploy.health_paths can name it)."""

from django.contrib import admin
from django.urls import path

from urls import health

urlpatterns = [
    path("staff-7f3a9c/", admin.site.urls),
    path("status/", health),
]
