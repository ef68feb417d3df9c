from kernel.errors import ApplicationError


def family_not_found() -> ApplicationError:
    return ApplicationError("family_not_found", "We could not find that family.", status=404)


def guardian_not_found() -> ApplicationError:
    return ApplicationError("guardian_not_found", "We could not find that guardian.", status=404)
