"""`carebridge person add|list|set-password`: people with their roles, skills, languages, channels and
capacities, and their console passwords."""

import argparse
import sys

from sqlmodel import col, select

from app.accounts import passwords
from app.accounts import service as accounts
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.errors import InvalidInput
from app.core.security import new_token
from app.core.settings import Settings
from app.people import service as people
from app.people.models import Person, Role


def pairs(text: str, low: int, high: int) -> dict[str, int]:
    """`billing=5,orders=3` -> {"billing": 5, "orders": 3}, each number between low and high."""
    parsed: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, number = item.partition("=")
        if not sep or not name.strip() or not number.strip().isdigit():
            raise argparse.ArgumentTypeError(f"{item!r} is not name=number")
        value = int(number)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{item!r}: {value} is outside {low} to {high}")
        parsed[name.strip()] = value
    return parsed


def names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    person = commands.add_parser(
        "person", help="add or list the people who sign in: agents, supervisors, managers, admins"
    )
    actions = person.add_subparsers(dest="person_command", required=True)
    add = actions.add_parser(
        "add", help="add a person (an agent unless --role says otherwise) and print their token (shown once)"
    )
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--skills", type=lambda t: pairs(t, 1, 10), default={}, help="billing=5,orders=3 (levels 1-10)")
    add.add_argument("--languages", type=names, default=["en"], help="en,de")
    add.add_argument("--capacity", type=lambda t: pairs(t, 0, 100), default={"webchat": 3}, help="webchat=3,x_dm=2")
    add.add_argument("--teams", type=names, default=[], help="overflow,retention")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.agent.value)
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read a console password from stdin (else API token only)",
    )
    actions.add_parser("list", help="list everyone who signs in")
    password = actions.add_parser("set-password", help="set someone's console password, read from standard input")
    password.add_argument("email")


def run(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            if args.person_command == "list":
                for agent in session.exec(select(Person).order_by(col(Person.id))):
                    print(
                        f"{agent.id}\t{agent.name}\t{agent.role}\t{agent.presence}\tskills={agent.skills}\t"
                        f"capacity={agent.capacity}\tlanguages={','.join(agent.languages)}\tteams={','.join(agent.teams)}"
                    )
                return 0
            if args.person_command == "set-password":
                person = people.get_by_email(session=session, email=args.email.lower())
                if person is None:
                    print(f"nobody has email {args.email!r}")
                    return 2
                accounts.set_password(session=session, person=person, password=_read_password())
                print(f"{person.name} can sign in with the new password; their console sessions have ended")
                return 0
            if people.get_by_email(session=session, email=args.email) is not None:
                print(f"an agent with email {args.email!r} exists already")
                return 2
            token = new_token()
            created = people.create(
                session=session,
                name=args.name,
                email=args.email,
                token=token,
                skills=args.skills,
                capacity=args.capacity,
                languages=args.languages,
                teams=args.teams,
                role=Role(args.role),
            )
            if args.password_stdin:
                created.password_hash = passwords.hash_password(_read_password())
            print(f"agent {created.id} {created.name}: token {token} (shown once; keep it safe)")
            return 0
    except InvalidInput as exc:
        print(exc.detail)
        return 2
    finally:
        engine.dispose()


def _read_password() -> str:
    return sys.stdin.readline().rstrip("\n")
