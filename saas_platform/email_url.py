"""EMAIL_URL: one setting for the whole email backend.

    smtp://user:password@smtp.example.com:587/?tls=1      SMTP with STARTTLS
    smtps://user:password@smtp.example.com:465            SMTP over TLS (ssl)
    smtp://localhost:1025                                 e.g. a local Mailpit
    console://   locmem://   dummy://   file:///var/mail/outbox

User name and password are URL-decoded (write ``@`` as ``%40``). Query options: ``tls``,
``ssl`` (booleans), ``timeout`` (seconds).
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _flag(options: dict[str, list[str]], name: str, default: bool) -> bool:
    if name not in options:
        return default
    value = options[name][-1].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"EMAIL_URL option {name} must be a boolean, got {value!r}.")


def parse_email_url(url: str) -> dict[str, object]:
    """Django settings (EMAIL_BACKEND, EMAIL_HOST, ...) for an email URL."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        known = ", ".join(f"{name}://" for name in BACKENDS)
        raise ImproperlyConfigured(f"EMAIL_URL must start with one of {known}; got {url!r}.")
    config: dict[str, object] = {"EMAIL_BACKEND": BACKENDS[scheme]}
    if scheme == "file":
        path = unquote(parts.path)
        if not path:
            raise ImproperlyConfigured("EMAIL_URL file:// needs a folder, e.g. file:///tmp/mail.")
        config["EMAIL_FILE_PATH"] = path
        return config
    if scheme not in {"smtp", "smtps"}:
        return config
    options = parse_qs(parts.query, keep_blank_values=True)
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"EMAIL_URL has an invalid port: {url!r}.") from None
    use_ssl = _flag(options, "ssl", scheme == "smtps")
    use_tls = _flag(options, "tls", False)
    if use_ssl and use_tls:
        raise ImproperlyConfigured("EMAIL_URL cannot turn on both tls (STARTTLS) and ssl.")
    config.update(
        EMAIL_HOST=parts.hostname or "localhost",
        EMAIL_PORT=port or (465 if use_ssl else 587 if use_tls else 25),
        EMAIL_HOST_USER=unquote(parts.username or ""),
        EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
        EMAIL_USE_TLS=use_tls,
        EMAIL_USE_SSL=use_ssl,
    )
    if "timeout" in options:
        try:
            config["EMAIL_TIMEOUT"] = float(options["timeout"][-1])
        except ValueError:
            raise ImproperlyConfigured("EMAIL_URL option timeout must be a number.") from None
    return config
