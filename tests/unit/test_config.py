"""Tests for hearthline.config: precedence, conversion, errors and docs."""

from __future__ import annotations

import argparse
import dataclasses
import os
import stat
import typing
from pathlib import Path

import pytest

from hearthline import config
from hearthline.config import (
    SETTINGS,
    SETTINGS_BY_NAME,
    Setting,
    Settings,
    SettingsError,
    convert_value,
    load_settings,
    settings_markdown,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hearthline.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the table --------------------------------------------------------------


def test_every_settings_field_has_a_setting_and_vice_versa() -> None:
    field_names = [f.name for f in dataclasses.fields(Settings)]
    assert field_names == [s.name for s in SETTINGS]
    assert len(set(field_names)) == len(field_names)


def test_settings_field_types_and_defaults_match_the_table() -> None:
    hints = typing.get_type_hints(Settings)
    defaults = Settings()
    for setting in SETTINGS:
        assert hints[setting.name] is setting.type, setting.name
        assert isinstance(setting.default, setting.type), setting.name
        assert getattr(defaults, setting.name) == setting.default, setting.name
        assert setting.help, setting.name


def test_defaults_when_nothing_is_configured() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.data_dir == Path("var")
    assert settings.port == 8080
    assert settings.host == "127.0.0.1"
    assert settings.webhook_timeout_seconds == 5.0
    assert settings.max_body_bytes == 1_048_576


def test_docs_settings_md_is_generated_from_the_table() -> None:
    docs = (REPO_ROOT / "docs" / "SETTINGS.md").read_text(encoding="utf-8")
    assert docs == settings_markdown(), (
        "docs/SETTINGS.md is out of date; regenerate it with "
        "`python -m hearthline.config > docs/SETTINGS.md`"
    )


def test_markdown_documents_every_setting() -> None:
    text = settings_markdown()
    for setting in SETTINGS:
        assert f"`{setting.name}`" in text
        assert f"`{setting.env_var}`" in text
    secret_row = next(line for line in text.splitlines() if "`secret_key`" in line)
    assert "(generated)" in secret_row


# --- precedence -------------------------------------------------------------


def test_precedence_overrides_env_toml_defaults(tmp_path: Path) -> None:
    toml = write_toml(
        tmp_path,
        'port = 1001\nhost = "10.0.0.1"\nlog_level = "DEBUG"\nwebhook_max_attempts = 3\n',
    )
    environ = {"HEARTHLINE_PORT": "1002", "HEARTHLINE_HOST": "10.0.0.2"}
    settings = load_settings(overrides={"port": 1003}, environ=environ, toml_path=toml)
    assert settings.port == 1003  # override beats env and file
    assert settings.host == "10.0.0.2"  # env beats file
    assert settings.log_level == "DEBUG"  # file beats default
    assert settings.webhook_max_attempts == 3
    assert settings.offer_timeout_seconds == 20  # default


def test_none_overrides_are_ignored() -> None:
    settings = load_settings(overrides={"port": None}, environ={"HEARTHLINE_PORT": "9001"})
    assert settings.port == 9001


def test_string_overrides_are_converted() -> None:
    settings = load_settings(overrides={"port": "9002", "data_dir": "/srv/x"}, environ={})
    assert settings.port == 9002
    assert settings.data_dir == Path("/srv/x")


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, "port = 7001\n")
    settings = load_settings(environ={"HEARTHLINE_CONFIG": str(toml)})
    assert settings.port == 7001


def test_explicit_toml_path_beats_config_environment_variable(tmp_path: Path) -> None:
    a = write_toml(tmp_path, "port = 7001\n")
    b = tmp_path / "other.toml"
    b.write_text("port = 7002\n", encoding="utf-8")
    settings = load_settings(environ={"HEARTHLINE_CONFIG": str(a)}, toml_path=b)
    assert settings.port == 7002


def test_environ_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTHLINE_PORT", "6001")
    monkeypatch.delenv("HEARTHLINE_CONFIG", raising=False)
    assert load_settings().port == 6001


def test_unrelated_hearthline_variables_are_ignored() -> None:
    settings = load_settings(environ={"HEARTHLINE_TEST_POSTGRES_URL": "x", "HEARTHLINE_NOPE": "1"})
    assert settings == Settings()


# --- conversion -------------------------------------------------------------


def test_env_strings_are_converted_to_each_type() -> None:
    settings = load_settings(
        environ={
            "HEARTHLINE_DATA_DIR": "/tmp/hl-data",
            "HEARTHLINE_PORT": " 8443 ",
            "HEARTHLINE_WEBHOOK_TIMEOUT_SECONDS": "2.5",
            "HEARTHLINE_MAX_BODY_BYTES": "2048",
            "HEARTHLINE_LOG_LEVEL": "debug",
        }
    )
    assert settings.data_dir == Path("/tmp/hl-data")
    assert settings.port == 8443
    assert settings.webhook_timeout_seconds == 2.5
    assert isinstance(settings.webhook_timeout_seconds, float)
    assert settings.max_body_bytes == 2048
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("0", False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("False", False),
        ("yes", True),
        ("no", False),
        ("Yes", True),
        (" no ", False),
        (True, True),
        (False, False),
    ],
)
def test_bool_conversion(raw: object, expected: bool) -> None:
    flag = Setting("flag", bool, False, "a flag")
    assert convert_value(flag, raw, "environment variable HEARTHLINE_FLAG") is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "", "tru", 1, None])
def test_bool_conversion_rejects_other_values(raw: object) -> None:
    flag = Setting("flag", bool, False, "a flag")
    with pytest.raises(SettingsError, match="'flag'"):
        convert_value(flag, raw, "test")


def test_toml_values_keep_their_types(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, 'webhook_timeout_seconds = 3\ndata_dir = "~/hl"\n')
    settings = load_settings(environ={}, toml_path=toml)
    assert settings.webhook_timeout_seconds == 3.0
    assert isinstance(settings.webhook_timeout_seconds, float)
    assert settings.data_dir == Path("~/hl").expanduser()


def test_settings_constructor_validates_and_converts() -> None:
    settings = Settings(port="9000", data_dir="somewhere")  # type: ignore[arg-type]
    assert settings.port == 9000
    assert settings.data_dir == Path("somewhere")
    with pytest.raises(SettingsError, match="'port'"):
        dataclasses.replace(settings, port=0)


# --- errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("env_var", "raw", "setting"),
    [
        ("HEARTHLINE_PORT", "eighty", "port"),
        ("HEARTHLINE_PORT", "70000", "port"),
        ("HEARTHLINE_PORT", "", "port"),
        ("HEARTHLINE_MAX_BODY_BYTES", "0", "max_body_bytes"),
        ("HEARTHLINE_WEBHOOK_TIMEOUT_SECONDS", "soon", "webhook_timeout_seconds"),
        ("HEARTHLINE_WEBHOOK_TIMEOUT_SECONDS", "nan", "webhook_timeout_seconds"),
        ("HEARTHLINE_LOG_LEVEL", "LOUD", "log_level"),
        ("HEARTHLINE_DATA_DIR", "", "data_dir"),
        ("HEARTHLINE_DATABASE_URL", "mysql://x/y", "database_url"),
        ("HEARTHLINE_PUBLIC_URL", "example.org", "public_url"),
    ],
)
def test_invalid_env_value_error_names_setting_source_and_value(
    env_var: str, raw: str, setting: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={env_var: raw})
    message = str(info.value)
    assert f"'{setting}'" in message
    assert env_var in message
    assert repr(raw) in message
    assert info.value.setting == setting


def test_invalid_toml_value_error_names_setting_and_file(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, 'port = "http"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(environ={}, toml_path=toml)
    assert "'port'" in str(info.value)
    assert str(toml) in str(info.value)
    assert "'http'" in str(info.value)


def test_toml_bool_is_not_an_integer(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, "port = true\n")
    with pytest.raises(SettingsError, match="'port'"):
        load_settings(environ={}, toml_path=toml)


def test_toml_unknown_key_is_an_error_naming_the_key(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, "port = 8000\nprot = 8001\n")
    with pytest.raises(SettingsError, match="'prot'") as info:
        load_settings(environ={}, toml_path=toml)
    assert str(toml) in str(info.value)


def test_toml_unknown_table_is_an_error(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, "[server]\nport = 8000\n")
    with pytest.raises(SettingsError, match="'server'"):
        load_settings(environ={}, toml_path=toml)


def test_missing_or_broken_toml_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(environ={"HEARTHLINE_CONFIG": str(tmp_path / "absent.toml")})
    broken = write_toml(tmp_path, "port = = 1\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(environ={}, toml_path=broken)


def test_unknown_override_is_an_error() -> None:
    with pytest.raises(SettingsError, match="'colour'"):
        load_settings(overrides={"colour": "blue"}, environ={})


def test_secret_values_are_never_echoed(tmp_path: Path) -> None:
    toml = write_toml(tmp_path, "secret_key = 123456789\n")
    with pytest.raises(SettingsError) as info:
        load_settings(environ={}, toml_path=toml)
    assert "'secret_key'" in str(info.value)
    assert "123456789" not in str(info.value)

    hidden = Setting("token", int, 1, "a secret number", secret=True)
    with pytest.raises(SettingsError) as info:
        convert_value(hidden, "hunter2", "environment variable HEARTHLINE_TOKEN")
    assert "'token'" in str(info.value)
    assert "hunter2" not in str(info.value)

    settings = Settings(secret_key="s3cr3t-value")
    assert "s3cr3t-value" not in repr(settings)


# --- derived values ---------------------------------------------------------


def test_effective_database_url(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.effective_database_url() == f"sqlite:///{tmp_path}/data/hearthline.db"
    pg = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert Settings(database_url=pg).effective_database_url() == pg


def test_effective_public_url() -> None:
    assert Settings().effective_public_url() == "http://127.0.0.1:8080"
    assert Settings(host="0.0.0.0", port=9000).effective_public_url() == "http://127.0.0.1:9000"
    assert Settings(host="::1").effective_public_url() == "http://[::1]:8080"
    settings = Settings(public_url="https://calls.example.org/")
    assert settings.effective_public_url() == "https://calls.example.org"


def test_resolve_secret_key_generates_persists_and_reuses(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    settings = Settings(data_dir=data_dir)
    key = settings.resolve_secret_key()
    assert len(key) >= 32
    key_file = data_dir / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert Settings(data_dir=data_dir).resolve_secret_key() == key
    assert [p.name for p in data_dir.iterdir()] == ["secret_key"]  # no temp files left
    assert Settings(data_dir=tmp_path / "other").resolve_secret_key() != key


def test_explicit_secret_key_wins_and_writes_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key="explicit")
    assert settings.resolve_secret_key() == "explicit"
    assert not (tmp_path / "data").exists()


# --- CLI --------------------------------------------------------------------


def test_cli_arguments_come_from_the_table() -> None:
    parser = argparse.ArgumentParser(prog="hearthline")
    config.add_cli_arguments(parser)
    help_text = parser.format_help()
    for setting in SETTINGS:
        if setting.secret:
            assert setting.cli_flag not in help_text
        else:
            assert setting.cli_flag in help_text
            assert setting.env_var in help_text
    namespace = parser.parse_args(["--port", "9100", "--data-dir", "/srv/hl"])
    overrides = config.overrides_from_namespace(namespace)
    settings = load_settings(overrides=overrides, environ={"HEARTHLINE_PORT": "1"})
    assert settings.port == 9100
    assert settings.data_dir == Path("/srv/hl")
    assert settings.host == SETTINGS_BY_NAME["host"].default
