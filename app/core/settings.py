"""Every setting of the service, read from `CAREBRIDGE_*` environment variables (and `.env`)."""

import os
import secrets
import tempfile
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from routing import Policy

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_AGENT_TOKEN = "demo-agent-token"
# The demo people's console password (app/seed.py); refused in production like the token.
DEMO_PASSWORD = "kestrel-demo-password"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAREBRIDGE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"

    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""

    rasa_url: str = ""
    rasa_port: int = 5005
    action_port: int = 5055
    rasa_timeout_seconds: float = 10.0
    # The token Rasa's HTTP API asks for: its tracker holds every conversation and its API can
    # replace the model. Unset, one is made once and kept in var/rasa-token (see rasa_api_token).
    rasa_token: str = ""
    # The action server, whose health decides with Rasa's whether the bot is back after an outage.
    action_url: str = ""
    # Failures in a row before the service stops asking Rasa, and how often it then probes Rasa's health.
    rasa_failures_to_open: int = 3
    rasa_probe_seconds: float = 5.0
    rasa_venv: Path = PROJECT_ROOT / ".venv-rasa"
    bot_dir: Path = PROJECT_ROOT / "bot"
    rasa_model_dir: Path = Field(default=PROJECT_ROOT / "var" / "rasa-models")
    # The embedding model exported to ONNX (see knowledge/onnx.py); shared like the Rasa models.
    embedding_model_dir: Path = Field(default=PROJECT_ROOT / "var" / "models")

    # The confidence (see knowledge/index.py) the best article needs before the bot answers with it;
    # chosen with `carebridge bench kb-quality` for 95 percent precision.
    kb_answer_threshold: float = 0.88
    # While the bot is down the service answers from the knowledge base itself, but with no NLU to say
    # the message is a question at all, it asks for a surer match before it does.
    kb_direct_answer_threshold: float = 0.95

    # Routing; docs/routing.md explains each.
    offer_timeout_seconds: float = 30.0
    ring_timeout_seconds: float = 60.0
    ageing_seconds: float = 120.0
    level_drop: int = 2
    fallback_team: str = "overflow"
    max_wait_seconds: float = 600.0
    heartbeat_timeout_seconds: float = 45.0
    grace_seconds: float = 60.0
    sla_seconds: float = 300.0
    # The language a case is routed in when the customer's words do not tell (app/conversations/language.py).
    default_language: str = Field(default="en", min_length=2, max_length=16)

    # Social channels (docs/channels.md). The API hosts are the platforms' own unless pointed elsewhere.
    meta_app_secret: str = ""
    meta_verify_token: str = ""
    meta_page_token: str = ""
    meta_graph_url: str = "https://graph.facebook.com/v21.0"
    x_consumer_secret: str = ""
    x_bearer_token: str = ""
    x_api_url: str = "https://api.twitter.com"
    x_brand_user_id: str = ""
    # How long an event waits in the inbox so that ones delivered out of order can be put back in order.
    inbox_settle_seconds: float = 1.0
    # Threads the intake, the bot's turns and the sender share, so that their work in a burst leaves
    # room for acknowledging the platforms' deliveries.
    background_threads: int = 1
    # Realtime: Redis (redis://...) to share live events between several instances; none for one.
    events_url: str | None = None
    # An agent's connection that sends nothing this long is closed (clients ping every 5 s).
    agent_silence_seconds: float = 15.0
    # How often an agent's open connection checks that its session or token has not ended; the
    # service's own changes tell the connections at once.
    agent_credentials_check_seconds: float = Field(default=120.0, gt=0)
    # How long agents' feeds keep events for a console to resume from.
    agent_feed_days: int = 7
    outbox_max_attempts: int = 8
    outbox_retry_seconds: float = 1.0

    # Web chat limits (docs/channels.md), in any window of `webchat_limit_seconds`: sessions one
    # address may start, and messages one visitor, or all the visitors behind one address, may send.
    # Each message costs a bot turn; a person types far fewer.
    webchat_limit_seconds: int = Field(default=60, ge=1)
    webchat_sessions_per_address: int = Field(default=10, ge=1)
    webchat_messages_per_visitor: int = Field(default=20, ge=1)
    webchat_messages_per_address: int = Field(default=120, ge=1)
    # The proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (addresses or networks,
    # comma-separated, "*" for any): the client address the limits count comes from them only.
    trusted_proxies: str = "127.0.0.1"

    demo_agent_token: str = DEMO_AGENT_TOKEN
    demo_password: str = DEMO_PASSWORD
    # Public evaluation data sets (BANKING77, CLINC150) for the quality benchmarks; never committed.
    evaluation_data_dir: Path = PROJECT_ROOT.parent / "shared" / "data"

    @model_validator(mode="after")
    def _derive_and_refuse_demo_secrets(self) -> Self:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'carebridge.db'}"
        if not self.rasa_url:
            self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        if not self.action_url:
            self.action_url = f"http://127.0.0.1:{self.action_port}"
        if self.environment == "production" and self.demo_agent_token == DEMO_AGENT_TOKEN:
            raise ValueError("CAREBRIDGE_DEMO_AGENT_TOKEN is the public demo value; set a secret one in production")
        if self.environment == "production" and self.demo_password == DEMO_PASSWORD:
            raise ValueError("CAREBRIDGE_DEMO_PASSWORD is the public demo value; set a secret one in production")
        return self

    def rasa_api_token(self) -> str:
        """`rasa_token`, or the one kept in var/rasa-token, made by whichever of the service and the
        Rasa server beside it asks first (readable by its owner only), so both agree across restarts."""
        if self.rasa_token:
            return self.rasa_token
        path = self.var_dir / "rasa-token"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, made = tempfile.mkstemp(dir=path.parent, prefix=".rasa-token.")  # mode 0600
            try:
                with os.fdopen(descriptor, "w") as handle:
                    handle.write(secrets.token_urlsafe(32))
                    handle.flush()
                    os.fsync(handle.fileno())
                os.link(made, path)  # whole or not at all, and never over another's
            except FileExistsError:
                pass
            finally:
                os.unlink(made)
        return path.read_text().strip()

    @property
    def routing_policy(self) -> Policy:
        return Policy(
            offer_timeout=timedelta(seconds=self.offer_timeout_seconds),
            ring_timeout=timedelta(seconds=self.ring_timeout_seconds),
            ageing=timedelta(seconds=self.ageing_seconds),
            level_drop=self.level_drop,
            fallback_team=self.fallback_team,
            max_wait=timedelta(seconds=self.max_wait_seconds),
            heartbeat_timeout=timedelta(seconds=self.heartbeat_timeout_seconds),
            grace=timedelta(seconds=self.grace_seconds),
        )

    @property
    def public_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"

    @property
    def rasa_tracker_url(self) -> str:
        """Rasa's tracker store: a SQLite file beside ours, or a `<db>_rasa` database on our server."""
        if self.is_sqlite:
            return f"sqlite:///{self.var_dir / 'rasa-tracker.db'}"
        url = make_url(self.database_url)
        # Rasa's environment has psycopg2, the default PostgreSQL driver of its SQLAlchemy.
        return url.set(drivername="postgresql", database=f"{url.database}_rasa").render_as_string(hide_password=False)


@lru_cache
def get_settings() -> Settings:
    return Settings()
