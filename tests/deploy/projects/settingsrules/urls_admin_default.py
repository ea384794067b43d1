from django.contrib import admin
from django.urls import include, path

from urls import health

urlpatterns = [
    path("", include([])),
    path("admin/", admin.site.urls),
    path("health/", health),
]
