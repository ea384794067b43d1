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


# ------------------------------------------- views that a library's loop runs (issue 21)

import serializerlib  # noqa: E402 (below: the lines above are named by the scenarios' tests)
from django.contrib import admin  # noqa: E402


def shelve(request):
    """Files a review of a book (POST), then answers with the whole shelf, serialized by a
    library (which reads each book's author: one query per book)."""
    Review.objects.create(book=Book.objects.get(title=request.POST["title"]), stars=5)
    return JsonResponse({"shelf": serializerlib.dump(Book.objects.all(), ["title", "author.name"])})


def shelf(request):
    """The whole shelf (GET), serialized by the library: one author query per book."""
    return JsonResponse({"shelf": serializerlib.dump(Book.objects.all(), ["author.name"])})


def book_detail(request, pk):
    book = Book.objects.get(pk=pk)
    return JsonResponse({"title": book.title, "author": book.author.name})


def top_book(request):
    """A template that fetches the books and shows the first one's author, once."""
    return render(request, "shop/top.html", {"books": Book.objects.all()})


def shelve_many(request):
    """Files a review of each book whose primary key the JSON body lists (POST): the
    library resolves the keys one by one, once per item of the request body."""
    import json

    books = serializerlib.resolve_pks(Book.objects.all(), json.loads(request.body)["books"])
    Review.objects.bulk_create([Review(book=book, stars=4) for book in books])
    return JsonResponse({"filed": len(books)})


FIELDS = ["title", "author.name"]

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.mixins import LoginRequiredMixin  # noqa: E402
from django.views.generic import DetailView  # noqa: E402


class PersonView(LoginRequiredMixin, DetailView):
    """Django's generic detail view of a user, for logged-in users: the request's user
    (loaded by the mixin's check) and the page's user (get_object) are two lookups of one
    table, both in Django's code, under the one project frame of a middleware."""

    model = get_user_model()
    template_name = "shop/person.html"


urlpatterns = [
    path("ok/", books_ok),
    path("bad/", books_bad),
    path("template/", books_template),
    path("async/", books_async),
    path("reviews/", reviews_template),
    path("author/<int:pk>/", author_detail),
    path("ping/", ping),
    path("shelve/", shelve),
    path("shelf/", shelf),
    path("book/<int:pk>/", book_detail),
    path("top/", top_book),
    path("shelve-many/", shelve_many),
    path("people/<int:pk>/", PersonView.as_view()),
    # A library's views, configured here (as a REST framework's ListAPIView.as_view()).
    path("api/books/", serializerlib.list_view(Book.objects.all(), FIELDS)),
    path("api/books-ok/", serializerlib.list_view(Book.objects.select_related("author"), FIELDS)),
    path("api/books/<int:pk>/", serializerlib.detail_view(Book.objects.all(), FIELDS)),
    path("admin/", admin.site.urls),
]


def authors_of_titles(request):
    """The author of each book whose title the JSON body lists (POST): one lookup per
    title of the request body, in the view's own loop."""
    import json

    authors = []
    for title in json.loads(request.body)["titles"]:
        authors.append(Book.objects.select_related("author").get(title=title).author.name)
    return JsonResponse({"authors": authors})


urlpatterns += [path("authors-of-titles/", authors_of_titles)]
