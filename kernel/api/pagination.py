from urllib.parse import urlsplit

from rest_framework.pagination import PageNumberPagination

from kernel.errors import ApplicationError
from kernel.hosts import public_origin


class Pagination(PageNumberPagination):
    """Page-number pagination whose malformed parameters are a 400, not a silent default."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def _canonical(self, link: str | None) -> str | None:
        """``next``/``previous`` on the configured scheme and port, not the client's: search
        pages are cached and served to every client (portal.catalog.search_cache)."""
        if link is None:
            return None
        parts = urlsplit(link)
        return public_origin(self.request) + parts.path + (f"?{parts.query}" if parts.query else "")

    def get_next_link(self):
        return self._canonical(super().get_next_link())

    def get_previous_link(self):
        return self._canonical(super().get_previous_link())

    def paginate_queryset(self, queryset, request, view=None):
        for name in (self.page_query_param, self.page_size_query_param):
            value = request.query_params.get(name)
            if value is not None and not (value.isdigit() and 0 < int(value) < 10**9):
                message = f"“{value}” is not a page {'number' if name == 'page' else 'size'}."
                raise ApplicationError("invalid_page", message, fields={name: [message]})
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and int(size) > self.max_page_size:
            message = f"The page size may be at most {self.max_page_size}."
            raise ApplicationError("invalid_page", message, fields={"page_size": [message]})
        return super().paginate_queryset(queryset, request, view)
