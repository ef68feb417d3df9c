from django.http import JsonResponse
from django.shortcuts import render


def _wants_json(request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


class ApiNotFoundMiddleware:
    """An unmatched path under /api/ answers JSON ``{"code": "not_found"}`` even with DEBUG on,
    where Django renders its HTML technical page instead of calling ``handler404``. Sits
    outside CommonMiddleware, so a slash-appending redirect still happens first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and _wants_json(request)
            and not response.get("Content-Type", "").startswith("application/")
        ):
            return not_found(request)
        return response


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse(
            {"code": "not_found", "message": "Not found.", "fields": {}}, status=404
        )
    tenant = getattr(request, "tenant", None)
    if tenant is not None and getattr(tenant, "schema_name", "public") != "public":
        # A business's host: its own branded page (portal_web's layout, theme and logo).
        return render(request, "portal_web/not_found.html", status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse(
            {"code": "server_error", "message": "Something went wrong on our side.", "fields": {}},
            status=500,
        )
    return render(request, "500.html", status=500)
