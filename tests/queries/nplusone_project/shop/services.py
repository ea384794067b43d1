"""Code under test: the N+1s are here, in 'user code', not in the tests."""

from django.db import connection, models
from django.db.models import prefetch_related_objects

from shop.models import Author, Book, Loan, Note, Review, Tag


def author_names(queryset):
    return [book.author.name for book in queryset]


def author_name(book):
    return book.author.name


def titles(books):
    return [b.title for b in books]


def book_author_names():
    names = []
    for book in Book.objects.all():
        names.append(book.author.name)
    return names


def author_book_lists():
    return [list(author.books.all()) for author in Author.objects.all()]


def book_tag_names():
    out = []
    for book in Book.objects.all():
        out.append([t.name for t in book.tags.all()])
    return out


def author_bios():
    bios = []
    for author in Author.objects.all():
        bios.append(author.profile.bio)
    return bios


def author_book_counts():
    counts = []
    for author in Author.objects.all():
        counts.append(author.books.count())
    return counts


def authors_with_books():
    found = []
    for author in Author.objects.all():
        if Book.objects.filter(author=author).exists():
            found.append(author)
    return found


def authors_by_ids(ids):
    return [Author.objects.get(pk=pk) for pk in ids]


def book_bodies():
    bodies = []
    for book in Book.objects.only("title"):
        bodies.append(book.body)
    return bodies


def author_names_only_title():
    names = []
    for book in Book.objects.only("title"):
        names.append(book.author.name)
    return names


def well_reviewed():
    found = []
    for book in Book.objects.prefetch_related("reviews"):
        if book.reviews.filter(stars__gte=0).exists():
            found.append(book)
    return found


def best_review_each():
    best = []
    for book in Book.objects.all():
        best.append(book.reviews.order_by("-stars").first())
    return best


def prefetch_tags_each(books):
    for book in books:
        prefetch_related_objects([book], "tags")
    return books


def author_names_iterator():
    names = []
    for book in Book.objects.iterator():
        names.append(book.author.name)
    return names


def other_alias_book_counts():
    counts = []
    for author in Author.objects.using("other").all():
        counts.append(Book.objects.using("other").filter(author=author).count())
    return counts


def all_titles():
    return [b.title for a in Author.objects.all() for b in a.books.all()]


def raw_titles(ids):
    out = []
    for pk in ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT title FROM shop_book WHERE id = %s", [pk])
            out.append(cursor.fetchone()[0])
    return out


def first_review_each(books):
    return [Review.objects.filter(book=b).first() for b in books]


def note_targets():
    return [str(n.target.pk) for n in Note.objects.all()]


def author_by_id(pk):
    return Author.objects.get(pk=pk)


def count_books():
    return Book.objects.count()


# ------------------------------------------------ loops whose line runs once


def author_of(target_pk):
    for book in Book.objects.all():
        if book.pk == target_pk:
            return book.author.name
    return None


def first_author_titles():
    author = list(Author.objects.all())[0]
    return ", ".join(b.title for b in author.books.all())


def bio_when_ready(answers):
    author = list(Author.objects.all())[-1]
    while True:
        answer = next(answers)
        if answer == "yes":
            return author.profile.bio


def first_b_author():
    name = None
    for book in Book.objects.order_by("pk"):
        if book.title.startswith("b"):
            name = book.author.name
            break
    return name


def content_types():
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    return [ContentType.objects.get_for_model(model) for model in (Author, Book, Review)]


def titles_in_keyset_batches(size=2):
    titles, last = [], 0
    while True:
        batch = list(Book.objects.filter(pk__gt=last).order_by("pk")[:size])
        if not batch:
            return titles
        titles += [b.title for b in batch]
        last = batch[-1].pk


def titles_in_offset_batches(size=2):
    total = Book.objects.count()
    titles = []
    for start in range(0, total, size):
        titles += [b.title for b in Book.objects.order_by("pk")[start : start + size]]
    return titles


def reviews_per_star_value():
    return [Review.objects.filter(stars=stars).exists() for stars in (0, 1, 2)]


class Stars(models.IntegerChoices):
    ONE = 1
    TWO = 2
    THREE = 3


def reviews_per_star_choice():
    """One check per member of an enumeration the code defines: a fixed number."""
    return [Review.objects.filter(stars=value).exists() for value, _label in Stars.choices]


def newest_books_per_author():
    return [list(Book.objects.filter(author=a).order_by("-pk")[:2]) for a in Author.objects.all()]


# ------------------------------------- a fixed number of queries, with no loop over rows


def verify_users(users):
    """Each user's own credentials checked, one per row of a users query."""
    from django.contrib.auth import authenticate

    return [authenticate(username=user.email, password="pw") for user in users]


def verify_logins(credentials):
    """The backend's lookup (shop/backends.py) once per pair: a loop of this code."""
    from django.contrib.auth import authenticate

    return [authenticate(username=email, password=password) for email, password in credentials]


def has_group(user, name):
    return user.groups.filter(name=name).exists()


def can_edit(user):
    """One permission expression, two group checks of one user: two queries, no loop."""
    return has_group(user, "admin") or has_group(user, "editor")


def editors(users):
    return [user.username for user in users if can_edit(user)]


def _author(data):
    return Author.objects.get(name=data["name"])


def _loan(data):
    """A loan from nested data, its two nested foreign keys looked up on one line."""
    book = Book.objects.get(title=data["book"]["title"])
    return Loan(book=book, lender=_author(data["lender"]), borrower=_author(data["borrower"]))


def lend(data):
    """One create: two lookups of one shape on one line, no loop."""
    loan = _loan(data)
    loan.save()
    return loan


def lend_all(rows):
    return Loan.objects.bulk_create([_loan(row) for row in rows])


def lend_each_book():
    """One loan per book of the shelf, its lender and borrower looked up per row."""
    return Loan.objects.bulk_create(
        [
            _loan({"book": {"title": book.title}, "lender": {"name": "a1"}, "borrower": {"name": "a2"}})
            for book in Book.objects.order_by("pk")
        ]
    )


def borrowed_own_book(loan):
    """Two relations to one table (Book.author, Loan.borrower): two statements."""
    return loan.book.author == loan.borrower


def borrowed_own_books():
    return [loan.book.author == loan.borrower for loan in Loan.objects.order_by("pk")]


def loan_card(loan):
    """A library reads two relations of one loan to one table."""
    import serializerlib

    return serializerlib.dump([loan], ["lender.name", "borrower.name"])[0]


def loan_cards():
    import serializerlib

    return serializerlib.dump(Loan.objects.order_by("pk"), ["lender.name", "borrower.name"])


def loans_with_people():
    """Three prefetch lookups reach shop_author by three paths: one batched query each."""
    loans = list(Loan.objects.order_by("pk").prefetch_related("lender", "borrower", "book__author"))
    return [(loan.lender.name, loan.borrower.name, loan.book.author.name) for loan in loans]


def prefetch_people_each(loans):
    for loan in loans:
        prefetch_related_objects([loan], "lender", "borrower")
    return loans


# ------------------------------------------ rows that share one related object (issue 21)


def author_per_book():
    """One author query per book, whether the books share their author or not."""
    return [book.author.name for book in Book.objects.order_by("pk")]


def first_two_author_names():
    """Two rows' author read once each on one line, no loop: a fixed pair of queries."""
    books = list(Book.objects.order_by("pk"))
    return [books[0].author.name, books[1].author.name]


# ------------------------------------------ loops over the input, not over rows (issue 21)
# Each repeats a lookup once per item of one document, request body, email or prompt:
# it grows with that input, not with a table (DJG110, a warning).


def tags_of_document(text):
    """An imported document: one tag name per line, each looked up by name."""
    return [Tag.objects.get(name=line.strip()) for line in text.splitlines() if line.strip()]


def tags_of_names_two_ways(names):
    """One lookup per name handed in, its rows read by list() for the first name and by
    unpacking for the rest: one line, one statement, two instructions of the line (a
    library that caches on first use runs its query inside the call one time and
    inside set() the next)."""
    found = []
    for i, name in enumerate(names):
        found += list(Tag.objects.filter(name=name)) if i == 0 else [*Tag.objects.filter(name=name)]
    return found


def tags_of_request(items):
    """The nested items of one request body: get_or_create by name, one per item."""
    tags = []
    for item in items:
        tag, _created = Tag.objects.get_or_create(name=item["name"])
        tags.append(tag)
    return tags


def tags_created_for_request(items):
    """The nested items of one request body, each created when missing (get_or_create
    runs a SELECT, then SAVEPOINT, INSERT and RELEASE, all from this one line)."""
    return [Tag.objects.get_or_create(name=item["name"])[0] for item in items]


def tags_of_pasted_text(text):
    """Tag names pasted into a form, one per line, each looked up by name."""
    names = text.split()
    return [Tag.objects.get(name=name) for name in names]


def retitle_books(post):
    """A model formset of the posted books: validating it cleans each posted form, whose
    hidden id field looks its book up (one query per form of the request)."""
    from django.forms import modelformset_factory

    formset = modelformset_factory(Book, fields=["title"], extra=0)(
        post, queryset=Book.objects.order_by("pk")
    )
    return formset.is_valid()


def tag_pair_form_is_valid(post):
    """A form with two multiple-choice fields over tags: cleaning each checks its posted
    ids with one ``filter(pk__in=...)`` query, evaluated by the comprehension that reads
    the primary keys back (Django's ``_check_values``)."""
    from django import forms

    class TagPairForm(forms.Form):
        first = forms.ModelMultipleChoiceField(queryset=Tag.objects.all())
        second = forms.ModelMultipleChoiceField(queryset=Tag.objects.all())

    return TagPairForm(post).is_valid()


def known_recipients(recipients):
    """The recipients of one incoming email that are authors: one lookup per address."""
    return [address for address in recipients if Author.objects.filter(name=address).exists()]


def prompt_new_name(answer):
    """A management command's prompt: asks again while the typed name is taken."""
    while True:
        value = answer()
        if not Author.objects.filter(name=value).exists():
            return value


def tag_words_per_book():
    """A loop over input (the words of a title) inside a loop over rows: one lookup per
    word of every book, so it still grows with the table."""
    found = []
    for book in Book.objects.all():
        for word in book.title.split():
            found.append(Tag.objects.filter(name=word).exists())
    return found


def titles_by_ids(ids):
    """One get per id of a list handed in (the ids a values_list() query fetched, or
    a request body's)."""
    return [Book.objects.get(pk=pk).title for pk in ids]


def titles_taken(user, names):
    """A loop over names handed in, beside an argument that is a lazy object (as
    request.user): judging the loop must not evaluate it (that would run a query)."""
    return [Book.objects.filter(title=name).exists() for name in names]


def tags_of_numbered_lines(lines):
    """A loop over numbered input lines: the counter of enumerate() is not a row."""
    found = {}
    for number, line in enumerate(lines, 1):
        found[number] = Tag.objects.filter(name=line).exists()
    return found


def retitle_every_book(items):
    """A bulk retitle that walks the fetched rows themselves and reads each one's author;
    the posted items only name the new titles: one author query per row (DJG101)."""
    titles = {item["id"]: item["title"] for item in items}
    return [(titles.get(book.pk), book.author.name) for book in Book.objects.all()]


class FieldRecorder:
    """An object of the code's own making (as a model's log recorder per field)."""

    def __init__(self, name):
        self.name = name

    def record(self, instance):
        return getattr(instance, self.name)


def deleted_book_authors():
    """A pre_delete receiver records each deleted book's fields through its recorders:
    Django's deletion collector calls it once per row (a loop the gate does not judge),
    and the receiver's loop walks the recorders, not input. One author query per
    deleted row (DJG101)."""
    from django.db.models.signals import pre_delete

    recorders = [FieldRecorder("author")]
    names = []

    def log(sender, instance, **kwargs):
        for recorder in recorders:
            names.append(recorder.record(instance).name)

    pre_delete.connect(log, sender=Book, weak=False)
    try:
        Book.objects.all().delete()
    finally:
        pre_delete.disconnect(log, sender=Book)
    return names


def _note_lines(notes):
    return [f"{n.text} on {n.target.title} by {n.target.author.name}" for n in notes]


def history_of_book(book):
    """One object's notes (a history sidebar): the generic prefetch returns that book
    alone however many notes it has, so its author is loaded once."""
    from django.contrib.contenttypes.models import ContentType

    notes = Note.objects.filter(
        content_type=ContentType.objects.get_for_model(Book), object_id=book.pk
    ).prefetch_related("target")
    return _note_lines(notes)


def history_of_books():
    """Every book's notes: the prefetch returns one book per note's target, and each
    book's author is loaded once per book row."""
    from django.contrib.contenttypes.models import ContentType

    notes = Note.objects.filter(content_type=ContentType.objects.get_for_model(Book))
    return _note_lines(notes.prefetch_related("target"))


def bios_of_books_of(author_id):
    """One author's books, their author prefetched: one author row whatever the books,
    so its profile is loaded once."""
    books = Book.objects.filter(author_id=author_id).prefetch_related("author")
    return [f"{b.title}: {b.author.profile.bio}" for b in books]



def audit(book):
    """One book's change log: the loop walks the recorders, not rows; the book's
    author is loaded once, however many books the table holds."""
    recorders = [FieldRecorder("title"), FieldRecorder("author")]
    lines = []
    for recorder in recorders:
        lines.append(str(recorder.record(book)))
    return lines


def change_log_json(added, removed):
    """A change log entry whose data holds two querysets of tags: the JSON encoder's
    ``default`` evaluates each one it meets in the dict, one query per queryset the code
    put there, walked by the encoder (DJG110, not a query per row)."""
    import json

    class LogEncoder(json.JSONEncoder):
        def default(self, o):
            if isinstance(o, models.QuerySet):
                names = []
                for tag in o:
                    names.append(tag.name)
                return names
            return super().default(o)

    data = {
        "added": Tag.objects.filter(pk__in=added),
        "removed": Tag.objects.filter(pk__in=removed),
    }
    return json.dumps(data, cls=LogEncoder, sort_keys=True)


import dataclasses  # noqa: E402  (here: the lines above are named by tests)


@dataclasses.dataclass(frozen=True)
class Reader:
    """A record built per row or per item of the input (ephios builds a participant per
    participation, holding its user)."""

    name: str
    author: Author


def readers_of_books(selected=False):
    """One reader per book row, holding the book's author: loaded per book (an N+1 of
    its own), or built with the row by ``select_related``."""
    books = Book.objects.select_related("author") if selected else Book.objects.all()
    return [Reader(book.title, book.author) for book in books]


def readers_of_document(text):
    """An imported document: one reader per line, its author looked up by name."""
    return [Reader(line, Author.objects.get(name=line)) for line in text.split()]


def review_counts_of_readers(readers):
    """One count per reader: per row when the readers were built from rows (DJG101),
    per item of the input when from a document (DJG110)."""
    counts = []
    for reader in readers:
        counts.append(Review.objects.filter(book__author=reader.author).count())
    return counts


def book_counts_of_readers(readers):
    """One count per reader, as above (another statement, for a finding of its own)."""
    return [Book.objects.filter(author=reader.author).count() for reader in readers]


def _has_title(book):
    return bool(book.title)


def _has_reviews(book):
    return Review.objects.filter(book=book).exists()


def _book_checks():
    """The checks a book must pass, registered in the code (ephios' signup checkers)."""
    return [_has_title, _has_reviews]


def valid(book):
    """Runs each check on the book: a loop over functions, not over data."""
    for check in _book_checks():
        if not check(book):
            return False
    return True


def valid_books():
    """Every book validated, by map() (no loop in Python): one reviews query per book
    row (DJG101)."""
    return list(map(valid, Book.objects.all()))


def valid_titles(titles):
    """The books of titles handed in, validated: one lookup and one reviews query per
    title of the input (DJG110)."""
    return [valid(Book.objects.get(title=title)) for title in titles]


def review_counts_by_title():
    """A graph of every book's title, walked by key: the body looks each key's row up in
    a dict built from one query, and counts its reviews (ephios' qualification import
    walks its inclusion graph so): one count per book row (DJG101)."""
    by_title = {book.title: book for book in Book.objects.all()}
    graph = {title: set() for title in sorted(by_title)}
    counts = []
    for title, _children in graph.items():
        book = by_title[title]
        counts.append(Review.objects.filter(book=book).count())
    return counts


def review_counts_of_titles(titles):
    """Titles handed in (a posted list): the body looks each one's row up by a get, then
    counts its reviews: one get and one count per item of the input (DJG110)."""
    counts = []
    for title in titles:
        book = Book.objects.get(title=title)
        counts.append(Review.objects.filter(book=book).count())
    return counts


def review_counts_of_contexts():
    """One context dict per book row (a mail per recipient): the loop walks the rows
    through the dicts, one count query per book (DJG101)."""
    contexts = [{"book": book, "kind": "mail"} for book in Book.objects.all()]
    counts = []
    for context in contexts:
        counts.append(Review.objects.filter(book=context["book"]).count())
    return counts



def review_counts_after_import(imported):
    """An import: the records it created (handed in), then the books the table had
    before, walked by one loop over a list written with unpacking (ephios' qualification
    import walks a graph of the imported and the existing records): one count per book,
    the table's rows among them (DJG101)."""
    rows = list(Book.objects.filter(title__startswith="b"))
    counts = []
    for book in [*imported, *rows]:
        counts.append(Review.objects.filter(book=book).count())
    return counts


def review_counts_after_import_by_title(imported, *, existing=True):
    """An import keyed by title: the imported records first (handed in, each saved on
    its own), then the table's books, each looked up by key in the loop's body (ephios'
    qualification import walks a graph whose first nodes are the imported ones): one
    count per book. The first repetitions meet imported records, the later ones the
    table's rows: the loop walks rows (DJG101). Imported records only: DJG110."""
    by_title = {book.title: book for book in imported}
    if existing:
        by_title.update((book.title, book) for book in Book.objects.filter(title__startswith="b"))
    counts = []
    for title in by_title:
        book = by_title[title]
        counts.append(Review.objects.filter(book=book).count())
    return counts
