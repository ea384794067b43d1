from django.contrib import admin
from django.template.loader import render_to_string

from shop.models import Author


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "titles"]

    @admin.display(description="Books")
    def titles(self, author):
        # Called by the admin for every row of its change list; the template walks the
        # author's books: one query per row.
        return render_to_string("shop/titles.html", {"author": author})
