from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Profile(models.Model):
    author = models.OneToOneField(Author, on_delete=models.CASCADE, related_name="profile")
    bio = models.TextField(default="")


class Tag(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=100)
    body = models.TextField(default="")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books")
    notes = GenericRelation("Note")


class Review(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")
    stars = models.IntegerField(default=5)

    def __str__(self):
        # Read per row by {{ review }} in a template loop: the relation is loaded here.
        return f"{self.book.title}: {self.stars}"


class Note(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    text = models.CharField(max_length=100, default="")


class Loan(models.Model):
    """A book lent by one author to another: two foreign keys to one table (Author)."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="loans")
    lender = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="loans_given")
    borrower = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="loans_taken")
