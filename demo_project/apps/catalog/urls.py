from django.urls import path

from apps.catalog import views

app_name = "catalog"

urlpatterns = [
    path("books/", views.BookListView.as_view(), name="book-list"),
    path("books/<slug:slug>/", views.BookDetailView.as_view(), name="book-detail"),
    path("books/<slug:slug>/review/", views.ReviewCreateView.as_view(), name="review-create"),
    path("authors/", views.AuthorListView.as_view(), name="author-list"),
    path("authors/<slug:slug>/", views.AuthorDetailView.as_view(), name="author-detail"),
    path("api/books/", views.BookListJSONView.as_view(), name="api-book-list"),
    path(
        "api/books/<slug:slug>/reviews/",
        views.BookReviewsJSONView.as_view(),
        name="api-book-reviews",
    ),
]
