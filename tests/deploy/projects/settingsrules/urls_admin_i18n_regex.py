from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import path, re_path

from urls import health

urlpatterns = [
    path("healthz", health),
    *i18n_patterns(
        re_path(r"^admin/", admin.site.urls),
    ),
]
