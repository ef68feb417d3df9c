from kernel.errors import ApplicationError


def not_found(what: str) -> ApplicationError:
    return ApplicationError(
        f"{what}_not_found", f"We could not find that {what.replace('_', ' ')}.", status=404
    )


def busy() -> ApplicationError:
    return ApplicationError(
        "busy",
        "Many families are registering right now. Please try again in a moment.",
        status=503,
        headers={"Retry-After": "2"},
    )
