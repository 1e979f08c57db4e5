"""The one place that turns domain errors (app/core/errors.py), and every other refusal or failure, into
HTTP answers: a Problem, `{"detail": ..., "field": ...}`."""

import contextlib
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import limits
from app.core.errors import DomainError, InvalidInput, TooManyRequests

log = logging.getLogger(__name__)

OUR_PACKAGES = frozenset({"app", "knowledge", "routing"})


class Problem(BaseModel):
    """Why a request was refused; `field` names the input at fault when one is, `limit` the rate
    limit that was reached (429)."""

    detail: str
    field: str | None = None
    limit: str | None = None


def problem(
    status_code: int,
    detail: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    limit: str | None = None,
) -> JSONResponse:
    """The answer for a refusal. Whatever the detail quotes, the answer encodes: a lone surrogate
    becomes "?", so the error handler itself never fails on the input it names."""
    body: dict[str, str] = {"detail": _sendable(detail)}
    if field:
        body["field"] = _sendable(field)
    if limit:
        body["limit"] = limit
    return JSONResponse(body, status_code=status_code, headers=headers)


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    """422 naming each field at fault, never echoing the input: it may be what no encoder takes
    (NaN, a lone surrogate) or a customer's words."""
    fields, details = [], []
    for error in exc.errors():
        location = tuple(error["loc"])
        # ("body", "text"), ("query", "after_seq"); ("body", 12) is where the JSON stops parsing.
        named = location[1:] if error.get("type") != "json_invalid" else ()
        field = limits.dotted(named) or str(location[0])
        reason = error.get("ctx", {}).get("error") if error.get("type") == "json_invalid" else None
        fields.append(field)
        details.append(f"{field}: {error['msg']}" + (f" ({reason})" if reason else ""))
    return problem(422, "; ".join(details) or "the request is not valid", fields[0] if fields else None)


def install_error_handlers(app: FastAPI) -> None:
    async def handle_domain_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        field = exc.field if isinstance(exc, InvalidInput) else None
        limit = exc.limit if isinstance(exc, TooManyRequests) else None
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        return problem(exc.status_code, exc.detail, field, headers, limit)

    async def handle_invalid_request(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc)

    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_invalid_request)
    app.add_middleware(UnhandledErrors)


class UnhandledErrors:
    """The last resort for an exception no handler took: log its kind, the route and where it was
    raised, never its message or the request (a database error's message quotes the customer's
    words), and answer 500 as a Problem. Nothing is raised on, so no server logs the traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent: set[str] = set()

        async def sending(message: Message) -> None:
            sent.add(message["type"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            log.error(
                "event=unhandled_error kind=%s method=%s route=%s where=%s",
                type(exc).__name__,
                scope.get("method", "WEBSOCKET"),
                _route(scope),
                _where(exc),
            )
            if scope["type"] == "http" and "http.response.start" not in sent:
                await problem(500, "internal error: the request was not completed")(scope, receive, send)
            elif scope["type"] == "websocket" and "websocket.close" not in sent:
                with contextlib.suppress(Exception):  # the client may be gone already
                    await send({"type": "websocket.close", "code": 1011, "reason": "internal error"})


def _route(scope: Scope) -> str:
    """The route's template (`/api/kb/articles/{slug}`): the path itself may hold what was typed."""
    route: Any = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def _where(exc: BaseException) -> str:
    """The innermost frame of our own code, as module:line, read from the traceback: no values."""
    ours = innermost = "unknown"
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", "?"))
        innermost = f"{module}:{tb.tb_lineno}"
        if module.partition(".")[0] in OUR_PACKAGES:
            ours = innermost
        tb = tb.tb_next
    return ours if ours != "unknown" else innermost


def _sendable(text: str) -> str:
    return text.encode("utf-8", "replace").decode()
