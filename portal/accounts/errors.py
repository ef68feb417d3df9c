from django.utils.translation import gettext as _

from kernel.errors import ApplicationError


def family_suspended_error(tenant) -> ApplicationError:
    message = (
        _("There is an issue with your account. Please contact %(business)s at %(email)s.")
        % {"business": tenant.name, "email": tenant.contact_email}
        if tenant
        else _("There is an issue with your account.")
    )
    return ApplicationError("family_suspended", message, status=403)


INVALID_CREDENTIALS = ("invalid_credentials", "The email or password is not correct.")


def student_not_found() -> ApplicationError:
    """The same answer on the API and the web pages for a student id the family does not have."""
    message = _("We could not find that student.")
    return ApplicationError("student_not_found", message, status=404, fields={"student": [message]})


def contact_not_found() -> ApplicationError:
    return ApplicationError("contact_not_found", _("We could not find that contact."), status=404)
