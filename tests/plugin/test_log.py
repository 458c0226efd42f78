"""Tests for provider.plugin.log: hclog JSON lines, the level Terraform asks for, redaction."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import secrets
from collections.abc import Iterator

import pytest

from provider.plugin.log import JSONLineHandler, configure_logging, level_from_env, redact

STANDARD_KEYS = {"@level", "@message", "@module", "@timestamp"}


@pytest.fixture
def stream() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def logger(request: pytest.FixtureRequest, stream: io.StringIO) -> Iterator[logging.Logger]:
    """A logger of its own per test, writing JSON lines to ``stream``."""
    log = logging.getLogger(f"test_log.{request.node.name}")
    log.handlers[:] = [JSONLineHandler(stream)]
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    log.handlers.clear()


@pytest.fixture
def secret() -> str:
    # Registered secrets stay registered, so each test uses one nothing else contains.
    value = f"tok-{secrets.token_hex(8)}"
    redact(value)
    return value


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_record_is_one_hclog_json_line(logger: logging.Logger, stream: io.StringIO) -> None:
    before = dt.datetime.now(dt.UTC)
    logger.info("planned %s", "hook", extra={"tf_rpc": "PlanResourceChange", "attempt": 2})
    [line] = lines(stream)
    assert line.keys() == STANDARD_KEYS | {"tf_rpc", "attempt"}
    assert line["@level"] == "info"
    assert line["@message"] == "planned hook"
    assert line["@module"] == logger.name
    assert (line["tf_rpc"], line["attempt"]) == ("PlanResourceChange", "2")
    assert isinstance(line["@timestamp"], str)
    stamp = dt.datetime.fromisoformat(line["@timestamp"])
    assert stamp.utcoffset() == dt.timedelta(0)
    assert before - dt.timedelta(seconds=1) <= stamp <= dt.datetime.now(dt.UTC)


def test_timestamp_is_the_record_time_in_utc_with_microseconds(stream: io.StringIO) -> None:
    record = logging.makeLogRecord(
        {"name": "provider.x", "msg": "m", "levelno": logging.INFO, "created": 86400.5}
    )
    JSONLineHandler(stream).handle(record)
    [line] = lines(stream)
    assert line["@timestamp"] == "1970-01-02T00:00:00.500000+00:00"


@pytest.mark.parametrize(
    ("level", "hclog"),
    [
        (logging.DEBUG, "debug"),
        (logging.INFO, "info"),
        (logging.WARNING, "warn"),
        (logging.ERROR, "error"),
        (logging.CRITICAL, "error"),
        (5, "debug"),
    ],
    ids=["debug", "info", "warning", "error", "critical", "below-debug"],
)
def test_level_names_are_hclog_names(
    logger: logging.Logger, stream: io.StringIO, level: int, hclog: str
) -> None:
    logger.setLevel(1)
    logger.log(level, "m")
    [line] = lines(stream)
    assert line["@level"] == hclog


def test_each_record_is_its_own_line(logger: logging.Logger, stream: io.StringIO) -> None:
    logger.warning("first\nwith a newline")
    logger.error("second")
    assert [line["@message"] for line in lines(stream)] == ["first\nwith a newline", "second"]


def test_exception_text_goes_into_error(logger: logging.Logger, stream: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    [line] = lines(stream)
    assert line["@message"] == "failed"
    assert isinstance(line["error"], str)
    assert line["error"].startswith("Traceback")
    assert line["error"].endswith("ValueError: boom")


def test_default_stream_is_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    record = logging.makeLogRecord({"name": "provider.x", "msg": "to stderr"})
    JSONLineHandler().handle(record)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert json.loads(captured.err)["@message"] == "to stderr"


@pytest.mark.parametrize(
    ("environ", "level"),
    [
        ({}, logging.WARNING),
        ({"TF_LOG": "DEBUG"}, logging.DEBUG),
        ({"TF_LOG": "trace"}, logging.DEBUG),
        ({"TF_LOG": "JSON"}, logging.DEBUG),
        ({"TF_LOG": " info "}, logging.INFO),
        ({"TF_LOG": "warn"}, logging.WARNING),
        ({"TF_LOG": "ERROR"}, logging.ERROR),
        ({"TF_LOG": "off"}, logging.CRITICAL + 10),
        ({"TF_LOG": "verbose"}, logging.DEBUG),
        ({"TF_LOG": "DEBUG", "TF_LOG_PROVIDER": "ERROR"}, logging.ERROR),
        ({"TF_LOG": "ERROR", "TF_LOG_PROVIDER": "TRACE"}, logging.DEBUG),
        ({"TF_LOG": "INFO", "TF_LOG_PROVIDER": ""}, logging.INFO),
        ({"TF_LOG_PROVIDER": "warn"}, logging.WARNING),
    ],
    ids=[
        "unset-is-warn",
        "debug",
        "trace-is-debug",
        "json-is-debug",
        "padded-lower-case",
        "warn",
        "error",
        "off-silences-everything",
        "unrecognised-is-debug",
        "provider-over-tf-log-quieter",
        "provider-over-tf-log-louder",
        "empty-provider-falls-back",
        "provider-only",
    ],
)
def test_level_from_env_prefers_tf_log_provider(environ: dict[str, str], level: int) -> None:
    assert level_from_env(environ) == level


def test_redact_scrubs_message_args_extra_and_exception(
    logger: logging.Logger, stream: io.StringIO, secret: str
) -> None:
    logger.info(f"token {secret}")
    logger.info("header %s", f"Bearer {secret}")
    logger.info("call", extra={"authorization": f"Bearer {secret}"})
    try:
        raise RuntimeError(f"rejected {secret}")
    except RuntimeError:
        logger.exception("failed")
    assert secret not in stream.getvalue()
    first, second, third, fourth = lines(stream)
    assert first["@message"] == "token ***"
    assert second["@message"] == "header Bearer ***"
    assert third["authorization"] == "Bearer ***"
    assert isinstance(fourth["error"], str)
    assert fourth["error"].endswith("RuntimeError: rejected ***")


def test_redact_applies_to_records_from_any_logger(stream: io.StringIO, secret: str) -> None:
    record = logging.makeLogRecord({"name": "httpx", "msg": "%s", "args": (secret,)})
    JSONLineHandler(stream).handle(record)
    [line] = lines(stream)
    assert line["@message"] == "***"


@pytest.mark.parametrize("short", ["", "s", "abc"])
def test_redacting_a_trivially_short_secret_changes_nothing(
    logger: logging.Logger, stream: io.StringIO, short: str
) -> None:
    """A secret of a few characters would turn every log line into asterisks."""
    redact(short)
    logger.info("plain text: abc, s")
    [line] = lines(stream)
    assert line["@message"] == "plain text: abc, s"


def test_configure_logging_routes_the_provider_tree(stream: io.StringIO) -> None:
    root = logging.getLogger("provider")
    saved = (root.handlers[:], root.level, root.propagate)
    try:
        configure_logging(stream)
        logging.getLogger("provider.test_log").error("routed")
        [line] = lines(stream)
        assert (line["@module"], line["@message"]) == ("provider.test_log", "routed")
        assert root.propagate is False
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        root.propagate = saved[2]
