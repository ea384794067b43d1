"""Stands in for django-storages (``pip install django-storages``, without its ``[s3]``
extra): the package imports, its S3 module does not without boto3 (see backends/s3.py)."""

__version__ = "1.14.6"
