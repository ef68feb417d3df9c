from kernel.errors import ApplicationError


class TenantNotFound(ApplicationError):
    def __init__(self, slug: str) -> None:
        super().__init__("tenant_not_found", f"No tenant with the slug “{slug}”.", status=404)


class ProvisioningFailed(ApplicationError):
    def __init__(self, slug: str, reason: str) -> None:
        super().__init__(
            "provisioning_failed",
            f"Provisioning “{slug}” failed: {reason}. Nothing routes to it yet; "
            "run provisioning again to resume.",
            status=500,
        )
