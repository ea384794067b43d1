from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("staff-7f3a9c/", admin.site.urls),
]
