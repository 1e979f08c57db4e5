"""Domain errors raised by services. Each carries the HTTP status its callers hear it as;
app/api/errors.py turns them, and every other refusal or failure, into HTTP answers."""


class DomainError(Exception):
    """A request the domain refuses; `status_code` is how HTTP callers hear of it."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status_code = 404


class ConversationNotFound(NotFound):
    pass


class NotConversationOwner(DomainError):
    status_code = 409


class InvalidMessage(DomainError):
    status_code = 422


class InvalidInput(DomainError):
    """Input the domain refuses, naming the field at fault."""

    status_code = 422

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class Conflict(DomainError):
    status_code = 409


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class TooManyRequests(DomainError):
    """Come back in `retry_after` seconds; `limit` names the limit that was reached, for clients."""

    status_code = 429

    def __init__(self, detail: str, retry_after: int, limit: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.limit = limit


class MalformedBody(DomainError):
    status_code = 400


class NotConfigured(DomainError):
    """A channel whose secrets are not set: nothing it receives can be trusted, so nothing is taken."""

    status_code = 503
