"""The service fuzzed from outside: one instance on each database for all of tests/fuzz (stopped
before the tests after it run), the social platforms stood in for on loopback, and one person of
each role calling with an API token.

State builds up across cases, as it would in production; what a case may break for the others (a
fuzz person's role or token changed by the admins' people API) is put back after it.
"""

from collections import Counter
from collections.abc import Generator, Iterator
from contextlib import ExitStack

import pytest

from app.cli.background import serve
from app.core.db import migrate
from bench import platform_payloads as p
from bench.platform_standin import GRAPH_PREFIX, X_PREFIX, FakePlatforms
from knowledge import OnnxEmbedder
from tests.fuzz.target import CALLERS, CHATS, MIN_CASES, TALLY, Cases, Chat, Target, add_people, slugs_of
from tests.support import databases
from tests.support.instances import instance, seed

META_VERIFY_TOKEN = "fuzz-verify-token"


@pytest.fixture(scope="package")
def standin() -> Iterator[str]:
    """Meta's Graph API and X's API as the service's replies and lookups meet them: never the real ones."""
    with serve(FakePlatforms().app) as server:
        yield server.http_url


@pytest.fixture(scope="package", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embedder: OnnxEmbedder, standin: str
) -> Iterator[Target]:
    """The service with the demo data and the fuzz people, on SQLite and then on PostgreSQL."""
    var_dir = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{var_dir / 'carebridge.db'}"
            migrate(url)
        else:
            url = stack.enter_context(databases.postgres_database(request.getfixturevalue("postgres_template")))
        seed(url)
        add_people(url)
        server = stack.enter_context(
            instance(
                url,
                var_dir,
                embedder,
                meta_app_secret=p.META_SECRET,
                meta_verify_token=META_VERIFY_TOKEN,
                meta_page_token="page-token",
                meta_graph_url=standin + GRAPH_PREFIX,
                x_consumer_secret=p.X_SECRET,
                x_bearer_token="x-token",
                x_api_url=standin + X_PREFIX,
                x_brand_user_id=p.BRAND_X_ID,
            )
        )
        target = Target(request.param, server.http_url, url, slugs=slugs_of(url))
        for _ in range(CHATS):
            started = target.http.post(f"{server.http_url}/api/chat/sessions", json={}, timeout=30)
            started.raise_for_status()
            target.chats.append(Chat(**{k: started.json()[k] for k in ("conversation_id", "customer_id", "token")}))
        yield target
        target.http.close()


CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


@pytest.fixture
def cases(request: pytest.FixtureRequest, target: Target) -> Iterator[Cases]:
    """Counts the cases of one operation (by one caller, when the test takes turns by caller); fewer
    than its share of MIN_CASES fails it, unless it failed already."""
    counted = Cases()
    yield counted
    TALLY.setdefault((target.database, counted.label), Counter()).update(counted.by_caller)
    callspec = getattr(request.node, "callspec", None)
    needed = -(-MIN_CASES // len(CALLERS)) if callspec and "caller_name" in callspec.params else MIN_CASES
    report = request.node.stash.get(CALL_REPORT, None)
    total = sum(counted.by_caller.values())
    if report is not None and report.passed and total < needed:
        pytest.fail(f"{counted.label} got {total} generated cases on {target.database}, fewer than {needed}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY:
        return
    callers = sorted({caller for counted in TALLY.values() for caller in counted})
    terminalreporter.section("fuzzed cases per operation")
    terminalreporter.write_line(f"{'database':<10} {'operation':<72} {'total':>5}  " + " ".join(callers))
    for (database, label), counted in sorted(TALLY.items()):
        by = " ".join(f"{counted[caller]:>{len(caller)}}" for caller in callers)
        terminalreporter.write_line(f"{database:<10} {label:<72} {sum(counted.values()):>5}  {by}")
