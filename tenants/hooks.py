"""Extension point for provisioning. tenants/ knows nothing of the portal; the portal's apps
register here what a new tenant's schema needs (default settings, ...).

A hook is called as ``hook(tenant=tenant)`` with the connection already in the tenant's schema
and inside the provisioning transaction. Hooks must be idempotent: a resumed provisioning calls
them again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ProvisioningHook = Callable[..., Any]

_hooks: dict[str, ProvisioningHook] = {}


def register_provisioning_hook(name: str, hook: ProvisioningHook) -> None:
    _hooks[name] = hook


def provisioning_hooks() -> list[tuple[str, ProvisioningHook]]:
    return list(_hooks.items())
