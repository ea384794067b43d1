from django.db import models

from corpus_compat import check_constraint


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=50)
    pages = models.IntegerField()
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    editor = models.ForeignKey(
        Author,
        null=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        related_name="edited",
    )
    reviewer = models.ForeignKey(
        Author, null=True, db_index=False, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        order_with_respect_to = "author"
        constraints = [check_constraint(models.Q(pages__gte=0), "djgc_book_pages_gte_0")]
