import pytest

from kernel.errors import ApplicationError
from tenants.slugs import RESERVED_SLUGS, slug_errors, slug_validate


@pytest.mark.parametrize(
    "slug",
    ["acme", "a", "acme-gym", "gym2", "a" * 40, "z-9-x"],
)
def test_valid_slugs_pass(slug):
    assert slug_validate(slug) == slug
    assert slug_errors(slug) == []


@pytest.mark.parametrize(
    ("slug", "code", "message"),
    [
        ("", "slug_required", "A slug is required."),
        (None, "slug_required", "A slug is required."),
        ("a" * 41, "slug_too_long", "The slug may be at most 40 characters long."),
        (
            "Acme",
            "slug_invalid_characters",
            "The slug may contain only lowercase letters a-z, digits 0-9 and hyphens.",
        ),
        (
            "acme_gym",
            "slug_invalid_characters",
            "The slug may contain only lowercase letters a-z, digits 0-9 and hyphens.",
        ),
        (
            "acmé",
            "slug_invalid_characters",
            "The slug may contain only lowercase letters a-z, digits 0-9 and hyphens.",
        ),
        ("9gym", "slug_must_start_with_letter", "The slug must start with a letter a-z."),
        ("-gym", "slug_must_start_with_letter", "The slug must start with a letter a-z."),
        ("gym-", "slug_ends_with_hyphen", "The slug must not end with a hyphen."),
        ("gym--x", "slug_double_hyphen", "The slug must not contain two hyphens in a row."),
        ("www", "slug_reserved", "The slug “www” is reserved; choose another."),
        ("admin", "slug_reserved", "The slug “admin” is reserved; choose another."),
        ("public", "slug_reserved", "The slug “public” is reserved; choose another."),
    ],
)
def test_each_rule_has_its_own_error(slug, code, message):
    with pytest.raises(ApplicationError) as excinfo:
        slug_validate(slug)
    assert excinfo.value.code == code
    assert excinfo.value.message == message
    assert message in excinfo.value.fields["slug"]


def test_all_violations_are_listed_for_the_field():
    errors = slug_errors("9Bad_-")
    codes = [e.code for e in errors]
    assert codes == [
        "slug_invalid_characters",
        "slug_must_start_with_letter",
        "slug_ends_with_hyphen",
    ]
    with pytest.raises(ApplicationError) as excinfo:
        slug_validate("9Bad_-")
    assert len(excinfo.value.fields["slug"]) == 3


def test_reserved_list_covers_platform_hosts():
    for name in ("www", "api", "admin", "static", "media", "app", "platform", "mail", "public"):
        assert name in RESERVED_SLUGS
