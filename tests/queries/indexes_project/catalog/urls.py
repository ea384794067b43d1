from django.http import JsonResponse
from django.urls import path

from catalog.models import Author


def by_name(request):
    names = list(Author.objects.filter(name=request.GET["name"]).values_list("name", flat=True))
    return JsonResponse({"names": names})


urlpatterns = [path("authors/", by_name)]
