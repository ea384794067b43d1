"""Thin HTTP layer: parse the request, call a selector or service, render the result."""

from functools import cached_property
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from apps.catalog import selectors, services
from apps.catalog.forms import ReviewForm
from apps.catalog.models import Author, Book


class BookListView(ListView):
    """Published books, optionally filtered by ``?tag=<slug>``. Queries: 3."""

    template_name = "catalog/book_list.html"
    context_object_name = "books"
    paginate_by = 20

    def get_queryset(self) -> QuerySet[Book]:
        return selectors.published_books(tag_slug=self.request.GET.get("tag") or None)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["current_tag"] = self.request.GET.get("tag", "")
        return context


class BookDetailView(DetailView):
    """One published book with its reviews. Queries: 3."""

    template_name = "catalog/book_detail.html"
    context_object_name = "book"

    def get_queryset(self) -> QuerySet[Book]:
        return selectors.book_detail_queryset()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["review_form"] = ReviewForm()
        return context


class ReviewCreateView(LoginRequiredMixin, FormView):
    """Let a signed-in user review a published book."""

    form_class = ReviewForm
    template_name = "catalog/review_form.html"

    @cached_property
    def book(self) -> Book:
        return get_object_or_404(Book.objects.published(), slug=self.kwargs["slug"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["book"] = self.book
        return context

    def form_valid(self, form: ReviewForm) -> HttpResponse:
        user = self.request.user
        if not user.is_authenticated:  # guaranteed by LoginRequiredMixin; narrows the type
            return self.handle_no_permission()
        try:
            services.submit_review(
                book=self.book,
                user=user,
                rating=form.cleaned_data["rating"],
                body=form.cleaned_data["body"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, "Thank you for your review!")
        return redirect(self.book)


class AuthorListView(ListView):
    """Authors with their number of published books. Queries: 2."""

    template_name = "catalog/author_list.html"
    context_object_name = "authors"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Author]:
        return selectors.authors_with_book_counts()


class AuthorDetailView(DetailView):
    """An author with profile and published books. Queries: 3."""

    template_name = "catalog/author_detail.html"
    context_object_name = "author"

    def get_queryset(self) -> QuerySet[Author]:
        return selectors.author_detail_queryset()


class BookListJSONView(View):
    """``GET api/books/``: the newest published books as JSON. Queries: 2."""

    limit = 50

    def get(self, request: HttpRequest) -> JsonResponse:
        books = selectors.published_books(tag_slug=request.GET.get("tag") or None)[: self.limit]
        return JsonResponse({"results": [selectors.serialize_book(book) for book in books]})


class BookReviewsJSONView(View):
    """Async ``GET``: a book's latest reviews through the async ORM. Queries: 2."""

    async def get(self, request: HttpRequest, slug: str) -> JsonResponse:
        try:
            book = await selectors.aget_published_book(slug)
        except Book.DoesNotExist:
            raise Http404("No published book with this slug.") from None
        reviews = await selectors.arecent_reviews(book)
        return JsonResponse(
            {
                "book": {"title": book.title, "author": book.author.name},
                "reviews": [selectors.serialize_review(review) for review in reviews],
            }
        )
