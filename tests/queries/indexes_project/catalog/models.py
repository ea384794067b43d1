from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)
    email = models.CharField(max_length=100, unique=True)
    country = models.CharField(max_length=2)
    city = models.CharField(max_length=50)

    class Meta:
        indexes = [models.Index(fields=["country", "city"], name="author_country_city")]


class Book(models.Model):
    author = models.ForeignKey(Author, models.CASCADE, related_name="books")
    editor = models.ForeignKey(
        Author, models.SET_NULL, null=True, related_name="edited", db_index=False
    )
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=20)
    published = models.DateField()
    created = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, default="draft")
    price = models.IntegerField(default=0)
    pages = models.IntegerField(default=0)
    in_print = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["isbn"], name="book_isbn_unique")]
        indexes = [
            models.Index(
                fields=["status"], name="book_draft_status", condition=models.Q(status="draft")
            )
        ]


class Country(models.Model):
    """A lookup list of a few rows, read whole on purpose."""

    django_gates_small_table = True

    code = models.CharField(max_length=2)
    name = models.CharField(max_length=50)


class Genre(models.Model):
    """Small on purpose too: listed in [tool.django-gates.indexes] small_tables."""

    name = models.CharField(max_length=50)


class Issue(models.Model):
    """A magazine's issues: numbered within a series, unique together, no index on the
    number alone."""

    series = models.CharField(max_length=50)
    number = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="issue_series_number")
        ]
