from django.urls import path

from shop import views

urlpatterns = [
    path("constant/", views.products_constant),
    path("growing/", views.products_growing),
    path("counts/", views.category_counts),
    path("async/", views.products_async),
]
