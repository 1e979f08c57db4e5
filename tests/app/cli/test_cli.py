"""The `carebridge` command as an administrator runs it."""

import subprocess
import sys
from pathlib import Path

CAREBRIDGE = Path(sys.executable).parent / "carebridge"


def carebridge(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {"CAREBRIDGE_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(CAREBRIDGE), *args], env=env, capture_output=True, text=True, timeout=60)


def test_person_add_prints_a_token_once_and_list_shows_the_routing_profile(sqlite_url: str) -> None:
    added = carebridge(
        "person", "add", "--name", "Tom", "--email", "tom@example.test", "--skills", "billing=7,orders=2",
        "--languages", "en,de", "--capacity", "webchat=2,x_dm=1", "--teams", "retention", "--role", "supervisor",
        database_url=sqlite_url,
    )  # fmt: skip
    listed = carebridge("person", "list", database_url=sqlite_url)

    assert added.returncode == 0 and added.stdout.startswith("agent 1 Tom: token ")
    assert "Tom\tsupervisor\toffline\tskills={'billing': 7, 'orders': 2}" in listed.stdout
    assert "capacity={'webchat': 2, 'x_dm': 1}\tlanguages=en,de\tteams=retention" in listed.stdout


def test_person_add_refuses_bad_levels_and_a_taken_email(sqlite_url: str) -> None:
    bad_level = carebridge(
        "person", "add", "--name", "A", "--email", "a@x.test", "--skills", "billing=11", database_url=sqlite_url
    )
    first = carebridge("person", "add", "--name", "A", "--email", "a@x.test", database_url=sqlite_url)
    again = carebridge("person", "add", "--name", "B", "--email", "a@x.test", database_url=sqlite_url)

    assert bad_level.returncode == 2 and "'billing=11': 11 is outside 1 to 10" in bad_level.stderr
    assert first.returncode == 0
    assert again.returncode == 2 and "exists already" in again.stdout
