"""``humanitec-emulator``: serve the Humanitec webhook API locally, and deliver its events.

    humanitec-emulator --port 0 --token TOKEN [--app ORG/APP ...] [--state-file FILE]
                       [--host 127.0.0.1] [--access-log]
                       [--ca-file FILE] [--allow-http] [--deploy-duration SECONDS]
                       [--delivery-attempts N] [--delivery-timeout SECONDS]
                       [--delivery-backoff SECONDS]

``humanitec-emulator env|deploy|deliveries …`` talk to a running emulator instead
(``commands.py``).

Once listening it prints exactly one line to stdout, which scripts parse::

    humanitec-emulator listening on http://127.0.0.1:PORT

and serves until SIGINT or SIGTERM, then exits 0. Logs (access log only with
``--access-log``) go to stderr; the token is never printed.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from provider.emulator import commands
from provider.emulator.controls import DEFAULT_DEPLOY_DURATION

if TYPE_CHECKING:
    from provider.emulator.delivery import DeliverySettings

__all__ = ["main"]

MISSING_EXTRA = (
    "humanitec-emulator: its server stack ({module}) is not installed. It is an extra,\n"
    "left out of a plain install and of the release bundle. Install it with:\n\n"
    "    pip install 'terraform-provider-humanitec[emulator]'\n"
)


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGINT/SIGTERM (or one command); returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in commands.COMMANDS:
        return commands.main(argv)
    return _serve(argv)


def _serve(argv: list[str]) -> int:
    # The server's imports are made here, so the commands above start fast.
    import pydantic

    try:
        from provider.emulator.app import create_app
        from provider.emulator.server import bind_socket, make_server, url_for
    except ImportError as error:
        module = (error.name or "").partition(".")[0]
        if module not in ("starlette", "uvicorn"):
            raise
        sys.stderr.write(MISSING_EXTRA.format(module=module))
        return 2
    from provider.emulator.delivery import DeliverySettings, Dispatcher
    from provider.emulator.store import WebhookStore

    args = _parser(DeliverySettings()).parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if args.access_log else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        store = WebhookStore(state_file=args.state_file)
        for org_id, app_id in args.app:
            store.ensure_app(org_id, app_id)
        dispatcher = Dispatcher(
            store,
            DeliverySettings(
                ca_file=args.ca_file,
                allow_http=args.allow_http,
                attempts=args.delivery_attempts,
                timeout=args.delivery_timeout,
                backoff=args.delivery_backoff,
            ),
        )
        app = create_app(
            store, args.token, dispatcher=dispatcher, deploy_duration=args.deploy_duration
        )
        sock = bind_socket(args.host, args.port)
    except (OSError, ValueError, pydantic.ValidationError) as error:  # ssl.SSLError is OSError
        print(f"humanitec-emulator: {error}", file=sys.stderr)
        return 1
    server = make_server(app, access_log=args.access_log)
    print(f"humanitec-emulator listening on {url_for(sock)}", flush=True)
    # uvicorn handles SIGINT/SIGTERM while it runs and re-raises the signal after a clean
    # shutdown; these handlers absorb that so we exit 0 instead of dying by the signal.
    previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
        dispatcher.background.close()
    return 0


def _parser(defaults: DeliverySettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="humanitec-emulator",
        description="A local emulator of the Humanitec webhook API. Also: "
        "humanitec-emulator {env,deploy,deliveries} --help",
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port; 0 picks a free one")
    parser.add_argument("--token", required=True, help="the only accepted Bearer token")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--app",
        action="append",
        default=[],
        type=_org_app,
        metavar="ORG/APP",
        help="create this application at start (repeatable)",
    )
    parser.add_argument(
        "--state-file", type=Path, help="persist apps and webhooks here across restarts"
    )
    parser.add_argument(
        "--ca-file",
        type=Path,
        help="trust receivers whose certificate this CA bundle (PEM) verifies, "
        "besides the system trust store",
    )
    parser.add_argument(
        "--allow-http", action="store_true", help="deliver to http:// URLs on loopback too"
    )
    parser.add_argument(
        "--deploy-duration",
        type=float,
        default=DEFAULT_DEPLOY_DURATION,
        metavar="SECONDS",
        help="how long a deployment stays in progress (default %(default)s)",
    )
    parser.add_argument(
        "--delivery-attempts",
        type=int,
        default=defaults.attempts,
        metavar="N",
        help="attempts per delivery, retries included (default %(default)s)",
    )
    parser.add_argument(
        "--delivery-timeout",
        type=float,
        default=defaults.timeout,
        metavar="SECONDS",
        help="timeout of each attempt (default %(default)s)",
    )
    parser.add_argument(
        "--delivery-backoff",
        type=float,
        default=defaults.backoff,
        metavar="SECONDS",
        help="wait before the first retry, doubled after each (default %(default)s)",
    )
    parser.add_argument("--access-log", action="store_true", help="log requests to stderr")
    return parser


def _org_app(value: str) -> tuple[str, str]:
    org_id, _, app_id = value.partition("/")
    if not org_id or not app_id or "/" in app_id:
        raise argparse.ArgumentTypeError(f"expected ORG/APP, got {value!r}")
    return org_id, app_id


def _ignore(_signum: int, _frame: FrameType | None) -> None:
    """Swallow the signal uvicorn re-raises after its graceful shutdown."""


if __name__ == "__main__":
    sys.exit(main())
