"""Demo data for a first run: Kestrel Outdoor's FAQ and one agent who can take every topic."""

import logging

from sqlmodel import Session

from app.agents import service as agents
from app.channels.events import PLATFORM_CHANNELS
from app.kb import service as kb
from knowledge.demo import load_demo_articles

log = logging.getLogger(__name__)

DEMO_AGENT_EMAIL = "maria@kestrel.example"
DEMO_AGENT_NAME = "Maria"
DEMO_SKILL_LEVEL = 5
# Skills the bot asks for by the kind of case rather than its topic (bot/actions/handoff_packet.py).
CASE_SKILLS = ("complaints", "security")


def seed_demo(*, session: Session, agent_token: str, fallback_team: str) -> None:
    """Add the demo knowledge base and demo agent unless they are there already; never overwrite."""
    articles = load_demo_articles()
    if kb.count(session=session) == 0:
        for article in articles:
            content = kb.Content.of_article(article)
            kb.create(session=session, slug=article.slug, content=content, author=None, note="demo content")
            kb.publish(session=session, slug=article.slug)
        log.info("event=seeded_articles count=%d", len(articles))
    if agents.get_by_email(session=session, email=DEMO_AGENT_EMAIL) is None:
        topics = [article.skill for article in articles if article.skill]
        skills = dict.fromkeys([*topics, *CASE_SKILLS], DEMO_SKILL_LEVEL)
        agents.create(
            session=session,
            name=DEMO_AGENT_NAME,
            email=DEMO_AGENT_EMAIL,
            token=agent_token,
            skills=skills,
            capacity={channel: 3 for channel in ("webchat", *sorted(PLATFORM_CHANNELS))},
            # The fallback team catches whatever nobody more skilled takes (see docs/routing.md).
            teams=[fallback_team],
        )
        log.info("event=seeded_agent email_domain=kestrel.example")
