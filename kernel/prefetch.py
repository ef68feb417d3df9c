"""Rows already in hand, served as a prefetched relation.

``prefetch_related`` fills ``instance._prefetched_objects_cache[name]`` with a queryset whose
rows are already fetched; ``instance.<name>.all()`` then returns them without a query. Code that
has just fetched or created the rows itself (one query for many parents, or the rows it has
just inserted) attaches them the same way with :func:`attach`, so readers that iterate the
relation (serializers, templates, services) do not read them again.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet


class PrefetchedRows(QuerySet[Any]):
    """Already-fetched rows of a relation, served as ``instance.<relation>.all()`` would be
    after ``prefetch_related``. Anything beyond reading them (``filter``, ``order_by``, ...)
    queries the relation afresh."""

    _relation: dict = {}
    _prefetch_done: bool

    def _clone(self):
        return self.model._default_manager.filter(**self._relation)._clone()


def rows(model: type[Model], relation: dict, values: list) -> QuerySet:
    """A queryset over ``model`` filtered by ``relation`` whose rows are ``values``."""
    qs: PrefetchedRows = PrefetchedRows(model=model)
    qs._relation = relation
    qs._result_cache = list(values)
    qs._prefetch_done = True
    return qs


def attach(instance: Model, name: str, model: type[Model], relation: dict, values: list) -> None:
    """Serve ``values`` as ``instance.<name>.all()`` (the rows of ``model`` matching
    ``relation``, in the order the relation's reads would give them: the caller's duty)."""
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = rows(model, relation, values)


def attached(instance: Model, name: str) -> bool:
    """Whether ``instance.<name>`` is served from rows in hand (prefetched or attached)."""
    return name in instance.__dict__.get("_prefetched_objects_cache", {})
