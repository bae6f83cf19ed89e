"""Logging filters named in settings.LOGGING."""

from __future__ import annotations

import logging


class RefusalWithoutTraceback(logging.Filter):
    """A 403 or a 400 is an answer, not a failure: keep its one-line log record, drop the
    traceback Django attaches (PermissionDenied raised by `permission_required`, BadRequest
    naming a parameter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in (400, 403):
            record.exc_info = None
            record.exc_text = None
        return True
