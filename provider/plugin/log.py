"""Logging to stderr in go-plugin's JSON line format, with secrets redacted.

go-plugin reads the plugin's stderr line by line; a line that is a JSON object
with ``@level``/``@message``/``@timestamp`` is re-logged by Terraform at that
level, so ``TF_LOG=debug`` shows our records in Terraform's own log. Stdout is
reserved for the handshake line and must never be logged to.

The level comes from ``TF_LOG_PROVIDER``, else ``TF_LOG``; unset means
warnings and errors only (Terraform discards provider logs then anyway).

Secrets registered with :func:`redact` (the API token) are replaced by
``***`` in every record, whatever logger or argument carried them.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sys
import threading
from typing import TextIO

__all__ = ["JSONLineHandler", "configure_logging", "level_from_env", "redact"]

_LEVELS = {
    "TRACE": logging.DEBUG,
    "JSON": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "OFF": logging.CRITICAL + 10,
}
_HCLOG_LEVEL = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warn",
    logging.ERROR: "error",
    logging.CRITICAL: "error",
}
_STANDARD_RECORD_KEYS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


MIN_REDACTED_LENGTH = 4
"""Shorter values are not scrubbed: "***" for every "s" would make the log unreadable, and
such a value guards nothing. Redaction is the second line: nothing logs secrets at all."""


def redact(secret: str) -> None:
    """Never let ``secret`` appear in a log line from now on (if it is not trivially short)."""
    if len(secret) >= MIN_REDACTED_LENGTH:
        with _secrets_lock:
            _secrets.add(secret)


def _scrub(text: str) -> str:
    with _secrets_lock:  # another thread may register a secret meanwhile
        secrets = tuple(_secrets)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def level_from_env(environ: dict[str, str] | os._Environ[str] = os.environ) -> int:
    """The logging level Terraform asked for, as a stdlib logging level."""
    raw = environ.get("TF_LOG_PROVIDER") or environ.get("TF_LOG") or "WARN"
    return _LEVELS.get(raw.strip().upper(), logging.DEBUG)


class JSONLineHandler(logging.Handler):
    """Writes each record as one hclog-style JSON object per line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line: dict[str, object] = {
                "@level": _HCLOG_LEVEL.get(record.levelno, "debug"),
                "@message": _scrub(record.getMessage()),
                "@module": record.name,
                "@timestamp": _dt.datetime.fromtimestamp(record.created, _dt.UTC).isoformat(
                    timespec="microseconds"
                ),
            }
            for key, value in record.__dict__.items():
                if key not in _STANDARD_RECORD_KEYS and not key.startswith("_"):
                    line[key] = _scrub(str(value))
            if record.exc_info:
                line["error"] = _scrub(self.formatException(record.exc_info))
            stream = self._stream or sys.stderr
            stream.write(json.dumps(line) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)

    def formatException(self, exc_info: logging._SysExcInfoType) -> str:  # noqa: N802
        return logging.Formatter().formatException(exc_info)


def configure_logging(stream: TextIO | None = None) -> None:
    """Route the ``provider`` logger tree to stderr as JSON lines."""
    root = logging.getLogger("provider")
    root.handlers[:] = [JSONLineHandler(stream)]
    root.setLevel(level_from_env())
    root.propagate = False
