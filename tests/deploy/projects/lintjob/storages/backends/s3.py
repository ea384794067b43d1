"""Stands in for django-storages' ``storages/backends/s3.py``: its first lines, which
raise ``ImproperlyConfigured`` when boto3 is not installed, exactly as the real module
does (django-storages 1.14). The gate must never need to import it."""

from django.core.exceptions import ImproperlyConfigured

try:
    import boto3.session  # noqa: F401
    import s3transfer.constants  # noqa: F401
    from boto3.s3.transfer import TransferConfig  # noqa: F401
    from botocore.client import Config  # noqa: F401
    from botocore.exceptions import ClientError  # noqa: F401
    from botocore.signers import CloudFrontSigner  # noqa: F401
except ImportError as e:
    raise ImproperlyConfigured(f"Could not load Boto3's S3 bindings. {e}")  # noqa: B904

raise ImproperlyConfigured(  # boto3 is installed: this stand-in has nothing more to offer
    "tests/deploy/projects/lintjob/storages stands in for django-storages without boto3; "
    "the scenario tests skip where boto3 is installed"
)
