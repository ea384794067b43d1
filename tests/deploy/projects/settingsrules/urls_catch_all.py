"""A catch-all route answers /health/ too, but it is no health check."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path


def page(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(slug)


urlpatterns = [
    path("staff-7f3a9c/", admin.site.urls),
    re_path(r"^(?P<slug>.*)$", page),
]
