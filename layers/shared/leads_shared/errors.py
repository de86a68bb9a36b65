"""Domain errors. Raised anywhere in the layer; turned into HTTP only by ``http_errors``."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``message`` is safe to show to the API's clients."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(DomainError):
    """The request cannot be read at all (malformed JSON, ...): 400."""


class Unauthenticated(DomainError):
    def __init__(self, reason: str = "") -> None:
        # The reason is for logs only; clients always see the same message.
        super().__init__("Unauthenticated.")
        self.reason = reason


class Forbidden(DomainError):
    def __init__(self) -> None:
        super().__init__("This action is unauthorized.")


class Deactivated(Forbidden):
    """The caller's user is deactivated in the tenant's directory: 403."""

    def __init__(self) -> None:
        DomainError.__init__(self, "This account is deactivated.")


class NotFound(DomainError):
    def __init__(self, resource: str = "Resource") -> None:
        super().__init__(f"{resource} not found.")


class Conflict(DomainError):
    pass


class DuplicatesFound(Conflict):
    """A write refused because the lead would have likely duplicates (``on_duplicate=reject``):
    409 naming them (``duplicates``: JSON-ready, best first)."""

    def __init__(self, duplicates: list[dict[str, object]]) -> None:
        super().__init__(f"The lead has likely duplicates ({len(duplicates)}): nothing was written.")
        self.duplicates = duplicates


class PreconditionFailed(DomainError):
    def __init__(self) -> None:
        super().__init__("The resource was changed by someone else (If-Match does not match).")


class PayloadTooLarge(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body must not be larger than {limit} bytes.")


class UnsupportedMediaType(DomainError):
    """The body is not JSON (nor a form where a route takes one): 415."""

    def __init__(
        self, message: str = "The request body must be JSON (Content-Type: application/json)."
    ) -> None:
        super().__init__(message)


class ValidationFailed(DomainError):
    """A rule that needs data (a user of the tenant, ...) failed: 422 like a schema error."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first = next(iter(errors.values()))[0]
        super().__init__(first)
        self.errors = errors

    @classmethod
    def selected(cls, *fields: str) -> ValidationFailed:
        """Ids that name nothing the caller may choose (another tenant's, a deactivated user)."""
        return cls({field: [selected_invalid(field)] for field in fields})


def selected_invalid(field: str) -> str:
    """The message of an id that names nothing to choose: ``assigned_to`` gives "The selected
    assigned to is invalid." (the API's clients know these words)."""
    return f"The selected {field.replace('_', ' ')} is invalid."


class TooManyRequests(DomainError):
    """Over a rate limit (a public form's): 429 with ``Retry-After`` (seconds)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many submissions. Please retry later.")
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    """The data store is throttling or unreachable; the client may retry."""


class StoreFailure(DomainError):
    """An unexpected data-store error (a bug, not load): a 500 for clients, details in logs."""
