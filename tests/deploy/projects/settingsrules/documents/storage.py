"""Stands in for an object storage (django-storages' S3Storage, ...): not FileSystemStorage."""

from django.core.files.storage import Storage


class BucketStorage(Storage):
    def url(self, name: str | None) -> str:
        return f"https://bucket.example.com/{name}"
