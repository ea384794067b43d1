from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from apps.core.health import run_checks


@method_decorator(never_cache, name="dispatch")
class HealthCheckView(View):
    """``200 {"status": "ok"}`` when every dependency answers, ``503`` otherwise."""

    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest) -> JsonResponse:
        checks = run_checks()
        healthy = all(result == "ok" for result in checks.values())
        return JsonResponse(
            {"status": "ok" if healthy else "error", "checks": checks},
            status=200 if healthy else 503,
        )
