"""Error codes of push notifications (one code, one meaning)."""

from kernel.errors import ApplicationError

PUSH_TOKEN_INVALID = "push_token_invalid"  # noqa: S105 - an error code
PLATFORM_INVALID = "platform_invalid"
DEVICE_NOT_FOUND = "device_not_found"

CODES = (PUSH_TOKEN_INVALID, PLATFORM_INVALID, DEVICE_NOT_FOUND)


def push_token_invalid() -> ApplicationError:
    message = "This is not an Expo push token (ExponentPushToken[...])."
    return ApplicationError(PUSH_TOKEN_INVALID, message, fields={"token": [message]})


def platform_invalid(value: str) -> ApplicationError:
    message = f"Unknown platform “{value}”. Use ios, android or web."
    return ApplicationError(PLATFORM_INVALID, message, fields={"platform": [message]})


def device_not_found() -> ApplicationError:
    return ApplicationError(DEVICE_NOT_FOUND, "We could not find that device.", status=404)
