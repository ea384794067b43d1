from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path

from shop.models import Author, Book, Review


def books_ok(request):
    books = Book.objects.select_related("author")
    return JsonResponse({"books": [[b.title, b.author.name] for b in books]})


def books_bad(request):
    return JsonResponse({"books": [[b.title, b.author.name] for b in Book.objects.all()]})


def books_template(request):
    return render(request, "shop/books.html", {"books": Book.objects.all()})


async def books_async(request):
    names = []
    async for book in Book.objects.all():
        author = await Author.objects.aget(pk=book.author_id)
        names.append(author.name)
    return JsonResponse({"names": names})


def reviews_template(request):
    return render(request, "shop/reviews.html", {"reviews": Review.objects.all()})


def author_detail(request, pk):
    return render(request, "shop/author.html", {"author": Author.objects.get(pk=pk)})


def ping(request):
    return HttpResponse("ok")


urlpatterns = [
    path("ok/", books_ok),
    path("bad/", books_bad),
    path("template/", books_template),
    path("async/", books_async),
    path("reviews/", reviews_template),
    path("author/<int:pk>/", author_detail),
    path("ping/", ping),
]
