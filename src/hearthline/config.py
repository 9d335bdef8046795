"""Hearthline settings: one table drives validation, CLI help and docs.

Every setting is declared once in :data:`SETTINGS`.  :func:`load_settings`
reads them, with this precedence (highest first):

1. explicit overrides (for example CLI flags; ``None`` values are ignored),
2. environment variables ``HEARTHLINE_<NAME>`` (``HEARTHLINE_PORT`` ...),
3. an optional TOML file (``toml_path`` argument, else ``HEARTHLINE_CONFIG``),
4. the defaults in :data:`SETTINGS`.

``docs/SETTINGS.md`` is the output of :func:`settings_markdown`; regenerate it
with ``python -m hearthline.config > docs/SETTINGS.md``.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "HEARTHLINE_"
CONFIG_ENV_VAR = "HEARTHLINE_CONFIG"
SECRET_KEY_FILE = "secret_key"
DATABASE_FILE = "hearthline.db"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_TYPE_NAMES: dict[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Path: "path",
}


class SettingsError(ValueError):
    """A setting has an invalid value, or a configuration source is invalid."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


@dataclass(frozen=True)
class Setting:
    """Declaration of one setting.

    ``min_value``/``max_value`` bound numbers, ``choices`` lists the allowed
    strings (matched case-insensitively, stored as given in ``choices``) and
    ``url_schemes`` restricts a non-empty string to URLs with those schemes.
    """

    name: str
    type: type
    default: Any
    help: str
    secret: bool = False
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[str, ...] = ()
    url_schemes: tuple[str, ...] = ()

    @property
    def env_var(self) -> str:
        return env_var_name(self.name)

    @property
    def cli_flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def type_name(self) -> str:
        return _TYPE_NAMES[self.type]

    def rules(self) -> str:
        """Human-readable constraints, '' when there are none."""
        parts: list[str] = []
        if self.min_value is not None and self.max_value is not None:
            parts.append(f"From {_num(self.min_value)} to {_num(self.max_value)}.")
        elif self.min_value is not None:
            parts.append(f"At least {_num(self.min_value)}.")
        elif self.max_value is not None:
            parts.append(f"At most {_num(self.max_value)}.")
        if self.choices:
            parts.append("One of " + ", ".join(f"`{c}`" for c in self.choices) + ".")
        if self.url_schemes:
            schemes = ", ".join(f"`{s}://`" for s in self.url_schemes)
            parts.append(f"Empty, or a URL starting with {schemes}.")
        return " ".join(parts)


def env_var_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir",
        Path,
        Path("./var"),
        "directory for the SQLite database, recordings and other files",
    ),
    Setting(
        "database_url",
        str,
        "",
        "SQLAlchemy database URL; empty means `sqlite:///<data_dir>/hearthline.db`",
        url_schemes=("sqlite", "postgresql", "postgresql+psycopg"),
    ),
    Setting("host", str, "127.0.0.1", "address the HTTP server listens on"),
    Setting(
        "port", int, 8080, "TCP port the HTTP server listens on", min_value=1, max_value=65535
    ),
    Setting(
        "secret_key",
        str,
        "",
        "key that signs session cookies and tokens; empty means generate one "
        "on first start and keep it in `<data_dir>/secret_key` (mode 0600)",
        secret=True,
    ),
    Setting(
        "log_level",
        str,
        "INFO",
        "log level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    ),
    Setting(
        "max_body_bytes",
        int,
        1_048_576,
        "largest HTTP request body accepted, in bytes",
        min_value=1,
    ),
    Setting(
        "login_attempts_per_minute",
        int,
        10,
        "failed login attempts allowed per minute before further attempts are refused",
        min_value=1,
    ),
    Setting(
        "offer_timeout_seconds",
        int,
        20,
        "seconds an agent has to accept an offered call",
        min_value=1,
    ),
    Setting(
        "webhook_timeout_seconds",
        float,
        5.0,
        "timeout for one webhook delivery attempt, in seconds",
        min_value=0.1,
    ),
    Setting(
        "webhook_max_attempts",
        int,
        6,
        "delivery attempts for one webhook event before it is given up",
        min_value=1,
    ),
    Setting(
        "session_max_age_seconds",
        int,
        43_200,
        "lifetime of a login session, in seconds",
        min_value=60,
    ),
    Setting(
        "chat_messages_per_10_seconds",
        int,
        20,
        "messages one web-chat customer may send in 10 seconds; more are refused "
        "with 429 (typing and read signals: three times as many)",
        min_value=1,
    ),
    Setting(
        "chat_sessions_per_minute",
        int,
        10,
        "web chats one client address may start per minute; more are refused with 429",
        min_value=1,
    ),
    Setting(
        "public_url",
        str,
        "",
        "base URL printed for users and used in links; empty means "
        "`http://<host>:<port>`",
        url_schemes=("http", "https"),
    ),
    # ---- e-mail (services/email.py) ----
    Setting(
        "smtp_listen_host",
        str,
        "127.0.0.1",
        "address the inbound SMTP listener binds to (mail for the programs' addresses)",
    ),
    Setting(
        "smtp_listen_port",
        int,
        0,
        "TCP port of the inbound SMTP listener; 0 means no listener (`hearthline demo` uses 2525)",
        min_value=0,
        max_value=65535,
    ),
    Setting(
        "mail_max_message_bytes",
        int,
        10_485_760,
        "largest inbound e-mail taken, in bytes: SMTP refuses a larger one with 552; from IMAP "
        "only its header is imported, with a note",
        min_value=1024,
    ),
    Setting(
        "mail_max_attachment_bytes",
        int,
        5_242_880,
        "largest attachment kept, in bytes (decoded); a larger one is left out and the message "
        "says so",
        min_value=0,
    ),
    Setting(
        "mail_max_attachments_bytes",
        int,
        10_485_760,
        "all attachments kept of one inbound e-mail together, in bytes (decoded); those beyond "
        "are left out and the message says so",
        min_value=0,
    ),
    Setting(
        "mail_poll_interval_seconds",
        float,
        60.0,
        "seconds between two polls of each IMAP mailbox",
        min_value=1,
    ),
    Setting(
        "mail_acks_per_sender_per_hour",
        int,
        3,
        "automatic acknowledgements sent to one address in an hour at most (loop protection); "
        "0 means none",
        min_value=0,
    ),
    Setting(
        "smtp_relay_host",
        str,
        "",
        "SMTP relay that outgoing e-mail goes through; empty means none: replies are kept in the "
        "transcript marked as not sent",
    ),
    Setting(
        "smtp_relay_port", int, 587, "TCP port of the SMTP relay", min_value=1, max_value=65535
    ),
    Setting(
        "smtp_relay_security",
        str,
        "starttls",
        "how the connection to the SMTP relay is protected: `tls` from the start (usually port "
        "465), `starttls` (587), or `none`",
        choices=("none", "starttls", "tls"),
    ),
    Setting("smtp_relay_username", str, "", "user name at the SMTP relay; empty means no login"),
    Setting(
        "smtp_relay_password", str, "", "password at the SMTP relay", secret=True
    ),
    Setting(
        "smtp_relay_timeout_seconds",
        float,
        30.0,
        "timeout of one conversation with the SMTP relay, in seconds",
        min_value=0.1,
    ),
    Setting(
        "mail_max_attempts",
        int,
        8,
        "attempts to send one outgoing e-mail through the relay before it is given up",
        min_value=1,
    ),
    Setting(
        "mail_from_address",
        str,
        "",
        "sender of outgoing e-mail that has no program address of its own (chat transcripts); "
        "empty means `hearthline@<mail_domain>`",
    ),
    Setting(
        "mail_domain",
        str,
        "",
        "domain of the Message-IDs of outgoing e-mail; empty means the domain of "
        "`mail_from_address`, else this machine's name",
    ),
)

SETTINGS_BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}


def _describe(setting: Setting, value: Any) -> str:
    if setting.secret:
        return "(value hidden)"
    return repr(value)


def _fail(setting: Setting, value: Any, source: str, problem: str) -> SettingsError:
    return SettingsError(
        f"invalid value for setting {setting.name!r} from {source}: "
        f"{_describe(setting, value)} {problem}",
        setting=setting.name,
    )


def convert_value(setting: Setting, value: Any, source: str = "code") -> Any:
    """Convert ``value`` (a string from the environment, a TOML value or a
    Python value) to the setting's type and check its constraints.

    Raises :class:`SettingsError` naming the setting, the source and the bad
    value (never the value of a secret setting).
    """
    kind = setting.type
    result: Any
    if kind is bool:
        if isinstance(value, bool):
            result = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE:
            result = True
        elif isinstance(value, str) and value.strip().lower() in _FALSE:
            result = False
        else:
            raise _fail(setting, value, source, "is not a boolean (use true/false, yes/no or 1/0)")
    elif kind is int:
        if isinstance(value, bool):
            raise _fail(setting, value, source, "is not an integer")
        if isinstance(value, int):
            result = value
        elif isinstance(value, str):
            try:
                result = int(value.strip(), 10)
            except ValueError:
                raise _fail(setting, value, source, "is not an integer") from None
        else:
            raise _fail(setting, value, source, "is not an integer")
    elif kind is float:
        if isinstance(value, bool):
            raise _fail(setting, value, source, "is not a number")
        if isinstance(value, (int, float)):
            result = float(value)
        elif isinstance(value, str):
            try:
                result = float(value.strip())
            except ValueError:
                raise _fail(setting, value, source, "is not a number") from None
        else:
            raise _fail(setting, value, source, "is not a number")
        if not math.isfinite(result):
            raise _fail(setting, value, source, "is not a finite number")
    elif kind is Path:
        if isinstance(value, (str, os.PathLike)) and not isinstance(value, bytes):
            text = os.fspath(value)
            if not text.strip():
                raise _fail(setting, value, source, "is empty; a path is required")
            result = Path(text).expanduser()
        else:
            raise _fail(setting, value, source, "is not a path")
    elif kind is str:
        if not isinstance(value, str):
            raise _fail(setting, value, source, "is not a string")
        result = value
    else:  # pragma: no cover - guarded by the SETTINGS table test
        raise TypeError(f"unsupported setting type {kind!r} for {setting.name!r}")

    if setting.min_value is not None and result < setting.min_value:
        raise _fail(setting, value, source, f"is below the minimum {_num(setting.min_value)}")
    if setting.max_value is not None and result > setting.max_value:
        raise _fail(setting, value, source, f"is above the maximum {_num(setting.max_value)}")
    if setting.choices:
        by_upper = {c.upper(): c for c in setting.choices}
        if result.upper() not in by_upper:
            raise _fail(setting, value, source, "is not one of " + ", ".join(setting.choices))
        result = by_upper[result.upper()]
    if setting.url_schemes and result:
        if not any(result.startswith(f"{s}://") for s in setting.url_schemes):
            schemes = ", ".join(f"{s}://" for s in setting.url_schemes)
            raise _fail(setting, value, source, f"must be empty or start with one of {schemes}")
    return result


def _default(name: str) -> Any:
    return SETTINGS_BY_NAME[name].default


@dataclass(frozen=True)
class Settings:
    """Validated settings; one field per entry of :data:`SETTINGS`.

    Constructing it directly (or with :func:`dataclasses.replace`) validates and
    converts values the same way :func:`load_settings` does.
    """

    data_dir: Path = _default("data_dir")
    database_url: str = _default("database_url")
    host: str = _default("host")
    port: int = _default("port")
    secret_key: str = field(default=_default("secret_key"), repr=False)
    log_level: str = _default("log_level")
    max_body_bytes: int = _default("max_body_bytes")
    login_attempts_per_minute: int = _default("login_attempts_per_minute")
    offer_timeout_seconds: int = _default("offer_timeout_seconds")
    webhook_timeout_seconds: float = _default("webhook_timeout_seconds")
    webhook_max_attempts: int = _default("webhook_max_attempts")
    session_max_age_seconds: int = _default("session_max_age_seconds")
    chat_messages_per_10_seconds: int = _default("chat_messages_per_10_seconds")
    chat_sessions_per_minute: int = _default("chat_sessions_per_minute")
    public_url: str = _default("public_url")
    smtp_listen_host: str = _default("smtp_listen_host")
    smtp_listen_port: int = _default("smtp_listen_port")
    mail_max_message_bytes: int = _default("mail_max_message_bytes")
    mail_max_attachment_bytes: int = _default("mail_max_attachment_bytes")
    mail_max_attachments_bytes: int = _default("mail_max_attachments_bytes")
    mail_poll_interval_seconds: float = _default("mail_poll_interval_seconds")
    mail_acks_per_sender_per_hour: int = _default("mail_acks_per_sender_per_hour")
    smtp_relay_host: str = _default("smtp_relay_host")
    smtp_relay_port: int = _default("smtp_relay_port")
    smtp_relay_security: str = _default("smtp_relay_security")
    smtp_relay_username: str = _default("smtp_relay_username")
    smtp_relay_password: str = field(default=_default("smtp_relay_password"), repr=False)
    smtp_relay_timeout_seconds: float = _default("smtp_relay_timeout_seconds")
    mail_max_attempts: int = _default("mail_max_attempts")
    mail_from_address: str = _default("mail_from_address")
    mail_domain: str = _default("mail_domain")

    def __post_init__(self) -> None:
        for f in fields(self):
            setting = SETTINGS_BY_NAME[f.name]
            value = convert_value(setting, getattr(self, f.name), "Settings(...)")
            object.__setattr__(self, f.name, value)

    def ensure_data_dir(self) -> Path:
        """Create ``data_dir`` (and parents) if missing; return it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def effective_database_url(self) -> str:
        """``database_url``, or the SQLite file in ``data_dir`` when it is empty.

        The SQLite URL uses the absolute path of ``data_dir``; the directory is
        not created here (see :meth:`ensure_data_dir`).
        """
        if self.database_url:
            return self.database_url
        return "sqlite:///" + (self.data_dir.absolute() / DATABASE_FILE).as_posix()

    def effective_public_url(self) -> str:
        """``public_url`` without a trailing slash, or one built from host/port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def resolve_secret_key(self) -> str:
        """``secret_key``, or the key kept in ``<data_dir>/secret_key``.

        On first start the file is created (with ``data_dir``) holding a new
        random key, with mode 0600.  Concurrent first starts agree on one key.
        """
        if self.secret_key:
            return self.secret_key
        path = self.ensure_data_dir() / SECRET_KEY_FILE
        if not path.exists():
            _create_secret_file(path, secrets.token_urlsafe(48))
        key = path.read_text(encoding="utf-8").strip()
        if not key:
            raise SettingsError(
                f"secret key file {path} is empty; delete it to generate a new key",
                setting="secret_key",
            )
        return key


def _create_secret_file(path: Path, key: str) -> None:
    """Atomically create ``path`` with ``key`` and mode 0600, unless it exists."""
    fd, tmp = tempfile.mkstemp(prefix=".secret_key.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another process created it first
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"configuration file {path} does not exist") from None
    except OSError as exc:
        raise SettingsError(f"cannot read configuration file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"configuration file {path} is not valid TOML: {exc}") from None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    toml_path: Path | None = None,
) -> Settings:
    """Build :class:`Settings` from overrides, environment, TOML file and defaults.

    ``environ`` defaults to :data:`os.environ`.  The TOML file is ``toml_path``
    if given, else the path in ``HEARTHLINE_CONFIG`` if set and non-empty; its
    top-level keys are setting names, and an unknown key is an error.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}

    if toml_path is None and env.get(CONFIG_ENV_VAR):
        toml_path = Path(env[CONFIG_ENV_VAR])
    if toml_path is not None:
        toml_path = Path(toml_path).expanduser()
        for key, raw in _read_toml(toml_path).items():
            setting = SETTINGS_BY_NAME.get(key)
            if setting is None:
                raise SettingsError(
                    f"configuration file {toml_path}: unknown setting {key!r}", setting=key
                )
            values[key] = convert_value(setting, raw, f"configuration file {toml_path}")

    for setting in SETTINGS:
        if setting.env_var in env:
            raw = env[setting.env_var]
            values[setting.name] = convert_value(
                setting, raw, f"environment variable {setting.env_var}"
            )

    for key, raw in (overrides or {}).items():
        if raw is None:
            continue
        setting = SETTINGS_BY_NAME.get(key)
        if setting is None:
            raise SettingsError(f"unknown setting {key!r} in overrides", setting=key)
        values[key] = convert_value(setting, raw, f"option {setting.cli_flag}")

    return Settings(**values)


def _default_text(setting: Setting) -> str:
    value = setting.default
    if setting.secret and not value:
        return "(generated)"
    if isinstance(value, Path):
        text = value.as_posix()
        if not value.is_absolute() and not text.startswith("."):
            text = "./" + text
        return f"`{text}`"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str) and value == "":
        return "(empty)"
    return f"`{value}`"


def _help_text(setting: Setting) -> str:
    text = setting.help[:1].upper() + setting.help[1:]
    if not text.endswith("."):
        text += "."
    rules = setting.rules()
    return f"{text} {rules}" if rules else text


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one ``--flag`` per non-secret setting, with help from the table.

    Values stay strings (default ``None``); pass ``vars(namespace)`` filtered by
    :func:`overrides_from_namespace` to :func:`load_settings` for validation.
    Secret settings get no flag (command lines are visible to other users).
    """
    group = parser.add_argument_group(
        "settings", f"Also settable as {ENV_PREFIX}<NAME> variables or in a TOML file "
        f"named by {CONFIG_ENV_VAR}."
    )
    for setting in SETTINGS:
        if setting.secret:
            continue
        group.add_argument(
            setting.cli_flag,
            dest=setting.name,
            default=None,
            metavar=setting.type_name.upper(),
            help=(
                f"{_help_text(setting)} Env {setting.env_var}; "
                f"default {_default_text(setting).strip('`')}."
            ).replace("%", "%%"),
        )


def overrides_from_namespace(namespace: argparse.Namespace) -> dict[str, Any]:
    """The setting values given on the command line (others are None)."""
    return {s.name: getattr(namespace, s.name, None) for s in SETTINGS if not s.secret}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_markdown() -> str:
    """Markdown reference of all settings (the content of docs/SETTINGS.md)."""
    lines = [
        "# Settings",
        "",
        "<!-- Generated by `python -m hearthline.config > docs/SETTINGS.md`;"
        " do not edit by hand. -->",
        "",
        "Hearthline reads each setting from, highest precedence first:",
        "",
        "1. command-line options of `hearthline` (for example `--port 9000`; secret",
        "   settings have no option),",
        f"2. environment variables `{ENV_PREFIX}<NAME>` (for example `{ENV_PREFIX}PORT=9000`),",
        f"3. a TOML file named by `{CONFIG_ENV_VAR}`, whose top-level keys are the",
        "   setting names below (an unknown key is an error),",
        "4. the defaults below.",
        "",
        "Boolean values accept `true`/`false`, `yes`/`no`, `on`/`off` and `1`/`0`.",
        "An invalid value is an error that names the setting and the source.",
        "",
        "| Setting | Environment variable | Type | Default | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in SETTINGS:
        lines.append(
            f"| `{s.name}` | `{s.env_var}` | {s.type_name} | {_cell(_default_text(s))} "
            f"| {_cell(_help_text(s))} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(settings_markdown(), end="")
