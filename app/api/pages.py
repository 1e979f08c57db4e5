"""The pages people use: the customer's chat, the consoles of agents, knowledge managers and admins, and
signing in to them."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

STATIC_DIR = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/chat")


@router.get("/chat")
def chat_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "chat.html")


@router.get("/agent")
def agent_console() -> FileResponse:
    return FileResponse(STATIC_DIR / "agent.html")


@router.get("/kb")
def knowledge_console() -> FileResponse:
    return FileResponse(STATIC_DIR / "kb.html")


@router.get("/login")
def sign_in_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "login.html")


@router.get("/admin")
def admin_console() -> FileResponse:
    return FileResponse(STATIC_DIR / "admin.html")


@router.get("/supervisor")
def supervisor_console() -> FileResponse:
    return FileResponse(STATIC_DIR / "supervisor.html")
