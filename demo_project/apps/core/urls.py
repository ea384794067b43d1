from django.urls import path
from django.views.generic import RedirectView

from apps.core.views import HealthCheckView

app_name = "core"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="catalog:book-list"), name="home"),
    path("health/", HealthCheckView.as_view(), name="health"),
]
