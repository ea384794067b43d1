from django.db import models

from corpus_compat import check_constraint


class Buyer(models.Model):
    name = models.CharField(max_length=50)
    tier = models.IntegerField(default=0)


class Order(models.Model):
    ref = models.CharField(max_length=20)
    code = models.CharField(max_length=20, db_index=True, db_collation="C")
    total = models.IntegerField(null=True)
    note = models.CharField(max_length=30, db_collation="C")
    email = models.CharField(max_length=50)
    placed = models.DateTimeField()
    buyer = models.ForeignKey(Buyer, null=True, on_delete=models.SET_NULL)
    grade = models.CharField(max_length=10, null=True)
    referrer = models.ForeignKey(
        Buyer, null=True, on_delete=models.SET_NULL, related_name="referred", db_index=False
    )

    class Meta:
        constraints = [
            check_constraint(models.Q(total__gte=0), "djgc_order_total_gte_0"),
            check_constraint(models.Q(email__isnull=False), "djgc_order_email_nn"),
            check_constraint(models.Q(total__lte=1000000), "djgc_order_total_max"),
            check_constraint(models.Q(grade__in=["a", "b", "c"]), "djgc_order_grade_abc"),
        ]
