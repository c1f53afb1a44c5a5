"""Credentials in URLs (``?token=``, ``?ticket=``) never reach the server's logs.

uvicorn logs every request line (``uvicorn.access``) and every websocket it accepts
(``uvicorn.error``) with the full query string; a filter on those loggers rewrites the
values of credential parameters before any handler sees the record; the console handler
carries the same filter, so records of every logger are redacted, in text and in JSON.

``LOG_FORMAT=json`` (settings.LOGGING) formats each record as one JSON object per line with
python-json-logger: time, level, logger, message, and whatever the call passed as
``extra`` (the ids of a routing decision, say)."""

import logging
import re

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

CREDENTIAL_IN_QUERY = re.compile(r"([?&](?:token|ticket)=)[^&\s\"']*", re.IGNORECASE)
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error", "daphne.access", "daphne.server")


def redact(text: str) -> str:
    return CREDENTIAL_IN_QUERY.sub(r"\1[redacted]", text)


class RedactCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def redact_server_logs() -> None:
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCredentials) for f in logger.filters):
            logger.addFilter(RedactCredentials())


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, the extras,
    and ``exc_info`` with the traceback of an exception."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")  # ISO 8601, UTC
        # uvicorn repeats its startup lines with terminal colours in "color_message".
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "color_message"])
        super().__init__(*args, **kwargs)
