"""Domain errors raised by services, and the one place that turns them into HTTP answers."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


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


class OfferNotFound(NotFound):
    pass


class NotConversationOwner(DomainError):
    status_code = 409


class OfferNotPending(DomainError):
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


def install_error_handlers(app: FastAPI) -> None:
    async def handle_domain_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        body: dict[str, str] = {"detail": exc.detail}
        if isinstance(exc, InvalidInput) and exc.field:
            body["field"] = exc.field
        if isinstance(exc, TooManyRequests) and exc.limit:
            body["limit"] = exc.limit
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    app.add_exception_handler(DomainError, handle_domain_error)
