"""Settings from `PORTAL_*` environment variables, validated once at start.

Nothing reads the environment at import: `Settings.from_env()` is called by the CLI (or a test builds
`Settings(...)` itself) and the result is handed to `create_app(settings)`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: The secret key used when none is given in development. Production refuses it.
DEVELOPMENT_SECRET_KEY = "development-only-insecure-secret-key"  # noqa: S105 - refused in production
ENVIRONMENTS = ("development", "production", "test")
#: Worker threads per process for request handlers (PORTAL_THREADS); the connection pool is sized from it.
DEFAULT_THREADS = 16
#: More threads than this buy nothing on a few cores and hold that many database connections per worker.
MAX_THREADS = 256


class SettingsError(ValueError):
    """A setting is missing or wrong; the message is one line a person can act on."""


class Secret:
    """A value that never shows in a repr or a log line (`str(secret)` gives it)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __str__(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"{type(self).__name__}('**********')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class SettingDoc:
    name: str
    default: str
    meaning: str


#: Every setting, its default and meaning. The README's configuration table is checked against this list.
DOCUMENTED: tuple[SettingDoc, ...] = (
    SettingDoc(
        "PORTAL_ENV",
        "development",
        "`development`, `production` or `test`. Production refuses unsafe settings.",
    ),
    SettingDoc(
        "PORTAL_DATABASE_URL", "sqlite:///var/portal.db", "SQLite file or `postgresql://user@host/db`."
    ),
    SettingDoc(
        "PORTAL_SECRET_KEY",
        "(development key)",
        "At least 32 characters; signs tokens, badges and ballots. Required in production.",
    ),
    SettingDoc(
        "PORTAL_BASE_URL",
        "http://127.0.0.1:8000",
        "The public address, used in e-mailed links and the Origin check.",
    ),
    SettingDoc(
        "PORTAL_SMTP_URL",
        "(none: e-mails are logged)",
        "`smtp://user:pass@host:587` (STARTTLS) or `smtps://host:465`.",
    ),
    SettingDoc("PORTAL_MAIL_FROM", "IPT UK <noreply@localhost>", "The From address of every e-mail."),
    SettingDoc("PORTAL_SESSION_IDLE_MINUTES", "120", "A login ends after this long without a request."),
    SettingDoc("PORTAL_SESSION_MAX_HOURS", "24", "A login ends this long after it began, however active."),
    SettingDoc(
        "PORTAL_TRUSTED_PROXIES",
        "127.0.0.1",
        "Addresses whose X-Forwarded-For is believed (comma separated).",
    ),
    SettingDoc("PORTAL_LOG_LEVEL", "INFO", "`DEBUG`, `INFO`, `WARNING` or `ERROR`."),
    SettingDoc("PORTAL_METRICS_TOKEN", "(none: /metrics is off)", "Bearer token that opens `/metrics`."),
    SettingDoc(
        "PORTAL_KEEP_LOGIN_ATTEMPTS_DAYS",
        "30",
        "Failed login attempts (address, e-mail typed, time) are deleted after this many days.",
    ),
    SettingDoc(
        "PORTAL_KEEP_EXPIRED_DAYS",
        "7",
        "Ended logins, used or lapsed links and codes, and e-mail and upload throttle records are deleted "
        "this many days after they ended.",
    ),
    SettingDoc(
        "PORTAL_KEEP_SENT_EMAILS_DAYS",
        "365",
        "Sent (or finally failed) e-mails and their attachments are deleted this many days after sending.",
    ),
    SettingDoc(
        "PORTAL_THREADS",
        str(DEFAULT_THREADS),
        "Worker threads per process for request handlers; each worker's pool holds this many PostgreSQL "
        "connections plus 5 (see docs/operations.md).",
    ),
    SettingDoc(
        "PORTAL_STRIPE_SECRET_KEY",
        "(none: card payment is not offered)",
        "Stripe's secret API key (`sk_live_…`). With the webhook secret, it turns on card payment through "
        "Stripe Checkout; never logged.",
    ),
    SettingDoc(
        "PORTAL_STRIPE_WEBHOOK_SECRET",
        "(none: card payment is not offered)",
        "The signing secret (`whsec_…`) of the Stripe webhook endpoint `/payments/stripe/webhook`; never logged.",
    ),
    SettingDoc(
        "PORTAL_STRIPE_API_BASE",
        "https://api.stripe.com",
        "Where the Stripe client sends its requests (the test suite's local stand-in sets it).",
    ),
    SettingDoc(
        "PORTAL_REQUIRE_STAFF_2FA",
        "on in production, off otherwise",
        "`on` or `off`. When on, every staff login must set up two-step verification before anything else.",
    ),
)

_TRUE = ("1", "on", "true", "yes")
_FALSE = ("0", "off", "false", "no")


def _int(
    env: Mapping[str, str], name: str, default: int, minimum: int = 1, maximum: int | None = None
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum}.")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"{name} must be on or off, not {raw!r}.")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/portal.db"
    secret_key: Secret = field(default_factory=lambda: Secret(DEVELOPMENT_SECRET_KEY))
    base_url: str = "http://127.0.0.1:8000"
    env: str = "development"
    smtp_url: str | None = None
    mail_from: str = "IPT UK <noreply@localhost>"
    session_idle_minutes: int = 120
    session_max_hours: int = 24
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    log_level: str = "INFO"
    metrics_token: Secret | None = None
    #: None: on in production, off in development and test (see `staff_2fa_required`).
    require_staff_2fa: bool | None = None
    #: Retention (days): see `portal.accounts.retention` and the README's Privacy section.
    keep_login_attempts_days: int = 30
    keep_expired_days: int = 7
    keep_sent_emails_days: int = 365
    keep_closed_enquiries_days: int = 730
    #: Six years: the time within which a claim may be brought in England and Wales.
    keep_closed_complaints_days: int = 2190
    #: Request handler threads per process (anyio's default thread limiter); the pool is sized from it.
    threads: int = DEFAULT_THREADS
    #: Stripe Checkout: card payment is offered only when both secrets are set (see `card_payments`).
    stripe_secret_key: Secret | None = None
    stripe_webhook_secret: Secret | None = None
    stripe_api_base: str = "https://api.stripe.com"
    #: Starts the outbox sender with the app. Tests that drive the outbox themselves turn it off.
    run_mail_worker: bool = True

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        metrics = env.get("PORTAL_METRICS_TOKEN", "").strip()
        stripe_key = env.get("PORTAL_STRIPE_SECRET_KEY", "").strip()
        stripe_hook = env.get("PORTAL_STRIPE_WEBHOOK_SECRET", "").strip()
        return cls(
            database_url=env.get("PORTAL_DATABASE_URL", "").strip() or cls.database_url,
            secret_key=Secret(env.get("PORTAL_SECRET_KEY", "").strip() or DEVELOPMENT_SECRET_KEY),
            base_url=(env.get("PORTAL_BASE_URL", "").strip() or cls.base_url).rstrip("/"),
            env=env.get("PORTAL_ENV", "").strip() or "development",
            smtp_url=env.get("PORTAL_SMTP_URL", "").strip() or None,
            mail_from=env.get("PORTAL_MAIL_FROM", "").strip() or cls.mail_from,
            session_idle_minutes=_int(env, "PORTAL_SESSION_IDLE_MINUTES", 120),
            session_max_hours=_int(env, "PORTAL_SESSION_MAX_HOURS", 24),
            trusted_proxies=tuple(
                p.strip() for p in env.get("PORTAL_TRUSTED_PROXIES", "127.0.0.1").split(",") if p.strip()
            ),
            log_level=(env.get("PORTAL_LOG_LEVEL", "").strip() or "INFO").upper(),
            metrics_token=Secret(metrics) if metrics else None,
            require_staff_2fa=_flag(env, "PORTAL_REQUIRE_STAFF_2FA"),
            # A day at least: the login throttle looks back 24 hours.
            keep_login_attempts_days=_int(env, "PORTAL_KEEP_LOGIN_ATTEMPTS_DAYS", 30),
            keep_expired_days=_int(env, "PORTAL_KEEP_EXPIRED_DAYS", 7),
            keep_sent_emails_days=_int(env, "PORTAL_KEEP_SENT_EMAILS_DAYS", 365),
            keep_closed_enquiries_days=_int(env, "PORTAL_KEEP_CLOSED_ENQUIRIES_DAYS", 730),
            keep_closed_complaints_days=_int(env, "PORTAL_KEEP_CLOSED_COMPLAINTS_DAYS", 2190),
            threads=_int(env, "PORTAL_THREADS", DEFAULT_THREADS, maximum=MAX_THREADS),
            stripe_secret_key=Secret(stripe_key) if stripe_key else None,
            stripe_webhook_secret=Secret(stripe_hook) if stripe_hook else None,
            stripe_api_base=(env.get("PORTAL_STRIPE_API_BASE", "").strip() or cls.stripe_api_base).rstrip(
                "/"
            ),
        )

    def validate(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise SettingsError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}.")
        scheme = urlsplit(self.database_url).scheme
        if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
            raise SettingsError("PORTAL_DATABASE_URL must start with sqlite:/// or postgresql://.")
        base = urlsplit(self.base_url)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise SettingsError(f"PORTAL_BASE_URL must be an http(s) address, not {self.base_url!r}.")
        if self.smtp_url and urlsplit(self.smtp_url).scheme not in ("smtp", "smtps"):
            raise SettingsError("PORTAL_SMTP_URL must start with smtp:// or smtps://.")
        if not 1 <= self.threads <= MAX_THREADS:
            raise SettingsError(f"PORTAL_THREADS must be between 1 and {MAX_THREADS}, not {self.threads}.")
        if urlsplit(self.stripe_api_base).scheme not in ("http", "https"):
            raise SettingsError(
                f"PORTAL_STRIPE_API_BASE must be an http(s) address, not {self.stripe_api_base!r}."
            )
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError("PORTAL_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR.")
        if self.production:
            key = str(self.secret_key)
            if key == DEVELOPMENT_SECRET_KEY:
                raise SettingsError(
                    "Refusing to start in production without PORTAL_SECRET_KEY: set it to a long random value "
                    '(python -c "import secrets; print(secrets.token_urlsafe(48))").'
                )
            if len(key) < 32:
                raise SettingsError(
                    "Refusing to start in production: PORTAL_SECRET_KEY must be at least 32 characters."
                )

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def staff_2fa_required(self) -> bool:
        """Every staff login must have a second factor: on in production unless turned off."""
        return self.production if self.require_staff_2fa is None else self.require_staff_2fa

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure everywhere but plain-http development and tests."""
        return self.base_url.startswith("https://") or self.production

    @property
    def card_payments(self) -> bool:
        """Card payment through Stripe Checkout is offered: both Stripe secrets are set."""
        return self.stripe_secret_key is not None and self.stripe_webhook_secret is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def key_bytes(self) -> bytes:
        return str(self.secret_key).encode()
