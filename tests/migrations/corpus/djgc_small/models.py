"""Small tables the project declares (issue 22 §2): their rows are hand-made definitions
that cannot grow, so the rules whose harm grows with the table report them as warnings.
"""

from django.db import models


class ShippingMethod(models.Model):
    """Declared small on the model class."""

    django_gates_small_table = True

    name = models.CharField(max_length=40, db_index=True)
    code = models.TextField()


class Carrier(models.Model):
    """Declared small in the configuration (indexes.small_tables = ["djgc_small.Carrier"])."""

    name = models.CharField(max_length=40, db_index=True)


class Parcel(models.Model):
    """Not declared: a table that grows."""

    method = models.ForeignKey(ShippingMethod, on_delete=models.PROTECT, db_constraint=False)
    label = models.CharField(max_length=40, db_index=True)
