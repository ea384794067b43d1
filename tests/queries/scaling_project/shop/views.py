from django.http import JsonResponse

from shop.models import Category, Product


def products_constant(request):
    products = Product.objects.select_related("category").order_by("pk")
    return JsonResponse({"products": [[p.name, p.category.name] for p in products]})


def products_growing(request):
    products = Product.objects.order_by("pk")
    return JsonResponse({"products": [[p.name, p.category.name] for p in products]})


def category_counts(request):
    counts = {c.name: c.products.count() for c in Category.objects.all()}
    return JsonResponse({"counts": counts, "total": Product.objects.count()})


async def products_async(request):
    names = [p.name async for p in Product.objects.select_related("category")]
    return JsonResponse({"products": names})
