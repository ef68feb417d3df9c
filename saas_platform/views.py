from django.http import JsonResponse
from django.shortcuts import render


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


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
