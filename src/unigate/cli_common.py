"""What every ``unigate`` command needs before it starts, each failure one sentence (``click.ClickException``),
never a traceback: the settings, the secret key and the log configuration."""

from __future__ import annotations

import click

from unigate.settings import Settings


def settings() -> Settings:
    """Settings from the environment; a value that cannot be used (an unsupported UNIGATE_DATABASE) is a sentence."""
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def secret_key() -> str:
    from unigate.vault.crypto import SecretKeyError, load_secret_key

    try:
        return load_secret_key()
    except SecretKeyError as exc:
        raise click.ClickException(str(exc)) from None


def configure_logging(level: str, fmt: str = "text") -> None:
    """Root logging: every line with its request id, secrets redacted, as text or JSON (UNIGATE_LOG_FORMAT)."""
    from unigate.observability.logs import configure

    try:
        configure(level, fmt)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
