"""The refusals each operation may answer, listed in the OpenAPI document with the Problem schema, so
that a client (or a fuzzer checking conformance) knows every status and body it can get."""

from collections.abc import Callable, Collection, Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.api.deps import ROLE_CHECKS, bearer_token
from app.api.errors import Problem

REFUSALS = {
    400: "The body could not be read as JSON (nested too deeply, a number of too many digits)",
    401: "Not signed in, or the token is not known",
    403: "Signed in, but not in a role this operation serves, or a cookie change without its CSRF token",
    404: "Something the request names does not exist",
    409: "The request conflicts with the current state",
    422: "A field is not valid; `field` names it",
    429: "Too many attempts; try again after Retry-After seconds",
    503: "The channel's secrets are not set, so nothing it sends can be trusted",
}


def document_refusals(router: APIRouter, statuses: Collection[int] = ()) -> None:
    """Add to each of the router's operations the refusals it can answer: `statuses` when given, else
    422 to all, 400 to those with a body, 401 and 403 to those that need a caller, 404 to those naming
    something, 409 to changes; an operation's own `responses` (the sign-in's 429) stay. Before the
    router is included: the app builds each operation's response schemas then."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        _document(route, set(statuses) or _refusals_of(route))


def _refusals_of(route: APIRoute) -> set[int]:
    statuses = {422}
    if route.body_field is not None:
        statuses |= {400, 404}
    if _depends_on(route.dependant, {bearer_token}):
        statuses.add(401)
    if _depends_on(route.dependant, ROLE_CHECKS):
        statuses |= {401, 403}
    if route.dependant.path_params:
        statuses.add(404)
    if (route.methods or set()) - {"GET", "HEAD"}:
        statuses.add(409)
    return statuses


def _document(route: APIRoute, statuses: set[int]) -> None:
    for status in sorted(statuses):
        route.responses.setdefault(status, _problem(status))
    for code, response in route.responses.items():
        if code in REFUSALS:
            response.setdefault("model", Problem)


def _problem(status: int) -> dict[str, Any]:
    # Named as JSON also where the operation's own answers are text (the webhooks' verification).
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {"model": Problem, "description": REFUSALS[status], "content": content}


def _depends_on(dependant: Dependant, calls: Iterable[Callable[..., Any]]) -> bool:
    looked_for = set(calls)
    pending = [dependant]
    while pending:
        current = pending.pop()
        if current.call in looked_for:
            return True
        pending.extend(current.dependencies)
    return False


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """An operation's own refusals, for its `responses=`, described as every operation's are."""
    return {status: _problem(status) for status in statuses}
