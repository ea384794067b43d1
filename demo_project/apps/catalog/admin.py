from django.contrib import admin

from apps.catalog.models import Author, AuthorProfile, Book, Review, Tag


class AuthorProfileInline(admin.StackedInline):
    model = AuthorProfile


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AuthorProfileInline]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "status", "published_on"]
    list_filter = ["status"]
    list_select_related = ["author"]
    search_fields = ["title", "author__name"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["author", "tags"]
    date_hierarchy = "published_on"


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["book", "user", "rating", "created_at"]
    list_filter = ["rating"]
    list_select_related = ["book", "user"]
    raw_id_fields = ["book", "user"]
