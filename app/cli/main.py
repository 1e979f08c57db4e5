"""The `carebridge` command."""

import argparse
import os
import sys
from importlib import import_module

from app import tables  # noqa: F401  (the whole schema, for foreign keys)
from app.cli import bot, kb, people
from app.core.settings import get_settings

SHUTDOWN_GRACE_SECONDS = 10

# Subject -> module with a `run() -> bench.report.Report`; imported only when asked for.
BENCHMARKS = {
    "bot": "bench.bot",
    "bot-quality": "bench.bot_quality",
    "ingest": "bench.ingest",
    "kb": "bench.kb",
    "kb-quality": "bench.kb_quality",
    "nlu": "bench.nlu",
    "realtime": "bench.realtime",
    "routing": "bench.routing",
}


def main(argv: list[str] | None = None) -> int:
    # Nothing in Carebridge may fetch a model at run time; make the Hugging Face libraries agree.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="carebridge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run everything: migrate, seed, train Rasa if needed, start all servers")
    commands.add_parser("serve", help="run the API server alone")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("seed", help="add the demo knowledge base and demo agent if missing")
    commands.add_parser("train", help="train the Rasa model unless it is up to date")
    people.add_parsers(commands)
    kb.add_parsers(commands)
    bot.add_parsers(commands)
    bench = commands.add_parser("bench", help="run a benchmark: a table next to a baseline measured in the same run")
    bench.add_argument("subject", choices=sorted(BENCHMARKS))
    bench.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    settings = get_settings()

    match args.command:
        case "up":
            from app.cli.up import up

            return up(settings)
        case "serve":
            import uvicorn

            from app.main import create_app

            # Connections still open after this long on shutdown are closed: a client that stopped
            # reading its websocket must not keep the process from stopping.
            uvicorn.run(
                create_app(settings),
                host=settings.host,
                port=settings.port,
                log_level="info",
                timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
                # The app reads the proxy headers itself, from the proxies settings.trusted_proxies names.
                proxy_headers=False,
            )
            return 0
        case "migrate":
            from app.core.db import migrate

            migrate(settings.database_url)
            return 0
        case "seed":
            from app.cli.up import prepare

            prepare(settings)
            return 0
        case "train":
            from app.cli.rasa_training import ensure_model

            model, trained = ensure_model(settings, settings.var_dir / "logs" / "rasa-train.log")
            print(f"{'trained' if trained else 'up to date'}: {model}")
            return 0
        case "person":
            return people.run(args, settings)
        case "kb":
            return kb.run(args, settings)
        case "bot":
            return bot.run(args, settings)
        case "bench":
            report = import_module(BENCHMARKS[args.subject]).run()
            print(report.to_json() if args.json else report.table())
            return 0
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
