"""Logging to a rotating file in the log dir, with secrets redacted from every record."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from lora_studio.core.redact import redact


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(log_path: Path, level: int = logging.INFO) -> None:
    """Send the root logger to `log_path` (1 MB × 5 files). Idempotent."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_lora_studio", False):
            return
    handler = logging.handlers.RotatingFileHandler(
        log_path, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    handler._lora_studio = True  # type: ignore[attr-defined]
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)
