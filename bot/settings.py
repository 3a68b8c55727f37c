"""All configuration, from the environment (and `.env`), validated once at start."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split(value: object) -> object:
    if isinstance(value, str):
        return [item.strip().strip(":") for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path("data"), alias="DATA_DIR")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    # PostgreSQL connections each process keeps (and up to 5 more at a peak).
    database_pool_size: int = Field(25, alias="DATABASE_POOL_SIZE", ge=1, le=200)
    auto_migrate: bool = Field(True, alias="AUTO_MIGRATE")
    port: int = Field(3978, alias="PORT", ge=1, le=65535)
    host: str = Field("0.0.0.0", alias="HOST")
    log_level: str = Field("INFO", alias="LOG_LEVEL")

    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")

    microsoft_app_id: str = Field("", alias="MICROSOFT_APP_ID")
    microsoft_app_password: str = Field("", alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str = Field("", alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str = Field("MultiTenant", alias="MICROSOFT_APP_TYPE")
    teams_enabled: bool = Field(False, alias="TEAMS_ENABLED")

    # How long an inbox event stays with a worker that may have died before another takes it.
    inbox_lease_seconds: float = Field(30.0, alias="INBOX_LEASE_SECONDS", gt=0, le=3600)
    kudos_daily_allowance: int = Field(5, alias="KUDOS_DAILY_ALLOWANCE", ge=1, le=1000)
    kudos_reactions: Annotated[list[str], NoDecode] = Field(
        ["clap", "tada", "raised_hands"], alias="KUDOS_REACTIONS"
    )
    teams_kudos_reactions: Annotated[list[str], NoDecode] = Field(
        ["like", "heart"], alias="TEAMS_KUDOS_REACTIONS"
    )
    default_timezone: str = Field("UTC", alias="DEFAULT_TIMEZONE")
    admins: Annotated[list[str], NoDecode] = Field([], alias="ALLYBOT_ADMINS")
    # Where `allybot serve` is reachable from the internet; when set, links in nudges go
    # through its click-counting redirect, GET /r/TOKEN (bot/nudges/links.py).
    public_url: str | None = Field(None, alias="ALLYBOT_PUBLIC_URL")
    # On SIGTERM/SIGINT: how long requests in flight may take to finish, and then how long the
    # workers may take to finish the event or job they run (what is left is released).
    shutdown_grace: float = Field(10.0, alias="SHUTDOWN_GRACE", gt=0, le=300)
    # Observability (bot/logs.py, bot/metrics.py): `json` writes one JSON object per log line;
    # GET /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`, and is off (404)
    # while no token is set.
    log_format: Literal["plain", "json"] = Field("plain", alias="LOG_FORMAT")
    metrics_token: str | None = Field(None, alias="METRICS_TOKEN")
    # Where a platform refusing the bot (a revoked token, a missing scope) is also announced,
    # since the admins' DMs may fail alike: PLATFORM:WORKSPACE:CHANNEL (bot/workspace.py).
    ops_channel: str | None = Field(None, alias="OPS_CHANNEL")

    @field_validator("ops_channel")
    @classmethod
    def _ops_channel(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is None:
            return None
        platform, _, rest = value.partition(":")
        workspace, _, channel = rest.partition(":")
        if platform not in ("slack", "teams", "console") or not workspace or not channel:
            raise ValueError(
                "expected PLATFORM:WORKSPACE:CHANNEL, e.g. slack:T0123ABCD:C0456EFGH or "
                "teams:<tenant id>:19:abc@thread.tacv2"
            )
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and (len(value) < 16 or not value.isascii() or " " in value):
            raise ValueError(
                "expected at least 16 ASCII characters without spaces, e.g. from "
                "`openssl rand -hex 32`"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("expected the bot's public base URL, e.g. https://allybot.example.com")
        return value.rstrip("/") if value else None

    @field_validator("kudos_reactions", "teams_kudos_reactions", "admins", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return _split(value)

    @field_validator("default_timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; expected an IANA name like 'Europe/Paris'"
            ) from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "expected sqlite+aiosqlite:///path/to/file.db or "
                "postgresql+asyncpg://user@host:5432/dbname"
            )
        return value

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'allybot.db').resolve()}"

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))

    @property
    def teams_configured(self) -> bool:
        return bool(self.microsoft_app_id) or self.teams_enabled
