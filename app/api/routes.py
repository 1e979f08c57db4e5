"""Every route and socket of the service, included in the app in one place, each router with the
refusals its operations may answer listed in the OpenAPI document."""

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from app.api.accounts import router as accounts_router
from app.api.agent_socket import router as agent_socket_router
from app.api.assignment import router as assignment_router
from app.api.canned import router as canned_router
from app.api.channels import router as channels_router
from app.api.customers import router as customers_router
from app.api.deps import storable_input
from app.api.health import router as health_router
from app.api.kb import router as kb_router
from app.api.kb_search import router as kb_search_router
from app.api.openapi import document_refusals
from app.api.pages import STATIC_DIR
from app.api.pages import router as pages_router
from app.api.reports import router as reports_router
from app.api.webchat import router as webchat_router
from app.api.webhooks import router as webhooks_router


def include_routes(app: FastAPI) -> None:
    """Every router, in the order the OpenAPI document lists them; all but the webhooks' refuse
    unstorable input (`storable_input`) before the route reads it."""
    checked = (
        health_router,
        accounts_router,
        webchat_router,
        channels_router,
        customers_router,
        canned_router,
        kb_search_router,
        kb_router,
        agent_socket_router,
        assignment_router,
        reports_router,
    )
    for router in checked:
        document_refusals(router)
        app.include_router(router, dependencies=[Depends(storable_input)])
    # The webhooks read their raw bodies and store what a platform signed, cleaned (app/social/payloads.py):
    # a refusal would make the platform send the whole batch again. They refuse only what is not the platform.
    document_refusals(webhooks_router, statuses={400, 401, 403, 422, 503})
    app.include_router(webhooks_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
