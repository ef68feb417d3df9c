from saas_platform.errors import ApplicationError


def family_suspended_error(tenant) -> ApplicationError:
    contact = f" Please contact {tenant.name} at {tenant.contact_email}." if tenant else ""
    return ApplicationError(
        "family_suspended", f"There is an issue with your account.{contact}", status=403
    )


INVALID_CREDENTIALS = ("invalid_credentials", "The email or password is not correct.")
