"""Demo data for a first run: Kestrel Outdoor's FAQ, one agent who can take every topic, and one person
in each of the other roles, all signing in to the consoles with the demo password."""

import logging

from sqlmodel import Session

from app.accounts import passwords
from app.core.channel_names import PLATFORM_CHANNELS, WEBCHAT
from app.core.security import new_token
from app.kb import articles, publishing
from app.kb.content import Content
from app.people import service as people
from app.people.models import Role
from knowledge.demo import load_demo_articles

log = logging.getLogger(__name__)

DEMO_AGENT_EMAIL = "maria@kestrel.example"
DEMO_AGENT_NAME = "Maria"
DEMO_SKILL_LEVEL = 5
# Skills the bot asks for by the kind of case rather than its topic (bot/actions/handoff_packet.py).
CASE_SKILLS = ("complaints", "security")
# Everyone else of the demo: name, email, role. They take no conversations.
DEMO_PEOPLE = (
    ("Sam", "sam@kestrel.example", Role.supervisor),
    ("Kim", "kim@kestrel.example", Role.knowledge_manager),
    ("Ada", "ada@kestrel.example", Role.admin),
)


def seed_demo(*, session: Session, agent_token: str, fallback_team: str, password: str | None = None) -> None:
    """Add the demo knowledge base and demo people unless they are there already; never overwrite.
    With a `password`, the demo people sign in to the consoles with it."""
    demo_articles = load_demo_articles()
    if articles.count(session=session) == 0:
        for article in demo_articles:
            content = Content.of_article(article)
            articles.create(session=session, slug=article.slug, content=content, author=None, note="demo content")
            publishing.publish(session=session, slug=article.slug)
        log.info("event=seeded_articles count=%d", len(demo_articles))
    if people.get_by_email(session=session, email=DEMO_AGENT_EMAIL) is None:
        topics = [article.skill for article in demo_articles if article.skill]
        skills = dict.fromkeys([*topics, *CASE_SKILLS], DEMO_SKILL_LEVEL)
        maria = people.create(
            session=session,
            name=DEMO_AGENT_NAME,
            email=DEMO_AGENT_EMAIL,
            token=agent_token,
            skills=skills,
            capacity={channel: 3 for channel in (WEBCHAT, *sorted(PLATFORM_CHANNELS))},
            # The fallback team catches whatever nobody more skilled takes (see docs/routing.md).
            teams=[fallback_team],
        )
        maria.password_hash = passwords.hash_password(password) if password else None
        log.info("event=seeded_agent email_domain=kestrel.example")
    if password is None:
        return
    for name, email, role in DEMO_PEOPLE:
        if people.get_by_email(session=session, email=email) is None:
            person = people.create(
                session=session, name=name, email=email, token=new_token(), skills={}, capacity={}, role=role
            )
            person.password_hash = passwords.hash_password(password)
