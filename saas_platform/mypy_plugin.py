"""mypy: django-tenants' database wrapper, as the code sees it through ``django.db.connection``.

django-tenants replaces the PostgreSQL backend with one whose connection knows its tenant
(``connection.tenant``, ``connection.schema_name``, ``set_tenant()``, ``set_schema()``,
``set_schema_to_public()``); django-stubs types ``connection`` as Django's own
``BaseDatabaseWrapper``, which has none of them. This plugin adds them to that class while mypy
reads the stubs, so every use is checked as an attribute that exists (typed ``Any``: the tenant
model lives above the kernel) instead of each use being an error or an ignore. Only mypy loads
this module (pyproject.toml, [tool.mypy] plugins)."""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import MDEF, SymbolTableNode, Var
from mypy.plugin import ClassDefContext, Plugin
from mypy.types import AnyType, TypeOfAny

WRAPPER = "django.db.backends.base.base.BaseDatabaseWrapper"
TENANT_ATTRIBUTES = ("tenant", "schema_name", "set_tenant", "set_schema", "set_schema_to_public")
# The PostgreSQL backend's own (django-tenants' wrapper extends it): the server's version.
BACKEND_ATTRIBUTES = ("pg_version",)


def _add_tenant_attributes(ctx: ClassDefContext) -> None:
    info = ctx.cls.info
    for name in (*TENANT_ATTRIBUTES, *BACKEND_ATTRIBUTES):
        if name in info.names:
            continue
        var = Var(name, AnyType(TypeOfAny.explicit))
        var.info = info
        var._fullname = f"{info.fullname}.{name}"
        info.names[name] = SymbolTableNode(MDEF, var, plugin_generated=True)


class TenantConnectionPlugin(Plugin):
    def get_customize_class_mro_hook(
        self, fullname: str
    ) -> Callable[[ClassDefContext], None] | None:
        return _add_tenant_attributes if fullname == WRAPPER else None


def plugin(version: str) -> type[Plugin]:
    return TenantConnectionPlugin
