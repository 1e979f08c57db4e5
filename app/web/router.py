"""The pages people use: the customer's chat, the agent's console, the knowledge managers' console."""

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
