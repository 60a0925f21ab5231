from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.config import DEV_JWT_SECRET, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("CALLCENTER_"):
            monkeypatch.delenv(key)


def test_defaults_are_valid_and_embedded() -> None:
    s = load_settings()
    assert s.database_url == "sqlite+aiosqlite:///var/callcenter.sqlite3"
    assert s.uses_simulator
    assert (s.agi_host, s.agi_port) == ("127.0.0.1", 4573)
    assert (s.http_host, s.http_port) == ("127.0.0.1", 8000)
    assert s.inbound_number == "88001000000"


def test_nonsense_database_url_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_DATABASE_URL", "nonsense")
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    assert message.startswith("CALLCENTER_DATABASE_URL:")
    assert "\n" not in message


def test_unsupported_driver_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_DATABASE_URL", "mysql://root@localhost/cc")
    with pytest.raises(SettingsError, match=r"CALLCENTER_DATABASE_URL: unsupported .*mysql"):
        load_settings()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://cc:pw@db/cc", "postgresql+asyncpg://cc:pw@db/cc"),
        ("postgres://cc@db/cc", "postgresql+asyncpg://cc@db/cc"),
        ("sqlite:///var/x.sqlite3", "sqlite+aiosqlite:///var/x.sqlite3"),
    ],
)
def test_plain_urls_get_the_async_driver(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.setenv("CALLCENTER_DATABASE_URL", given)
    assert load_settings().database_url == expected


def test_production_refuses_the_development_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        load_settings()
    monkeypatch.setenv("CALLCENTER_JWT_SECRET", "short")
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        load_settings()
    monkeypatch.setenv("CALLCENTER_JWT_SECRET", "x" * 40)
    assert load_settings().jwt_secret.get_secret_value() != DEV_JWT_SECRET


def test_admin_needs_both_name_and_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_ADMIN_USERNAME", "admin")
    with pytest.raises(SettingsError, match="ADMIN_PASSWORD"):
        load_settings()


def test_agi_networks_from_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_AGI_ALLOWED_NETWORKS", "10.0.0.0/24, 127.0.0.1")
    assert load_settings().agi_allowed_networks == ["10.0.0.0/24", "127.0.0.1"]
    monkeypatch.setenv("CALLCENTER_AGI_ALLOWED_NETWORKS", "10.0.0.0/24,not-a-net")
    with pytest.raises(SettingsError, match=r"CALLCENTER_AGI_ALLOWED_NETWORKS: .*not-a-net"):
        load_settings()


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("CALLCENTER_HTTP_PORT", "70000"),
        ("CALLCENTER_AMI_PORT", "abc"),
        ("CALLCENTER_INBOUND_NUMBER", "8-800-100"),
        ("CALLCENTER_LOG_LEVEL", "LOUD"),
        ("CALLCENTER_DEMO_TRAFFIC", "perhaps"),
    ],
)
def test_bad_values_name_their_setting(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(err.value).startswith(f"{var}:")


def test_empty_vosk_model_path_means_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_VOSK_MODEL_PATH", "")
    assert load_settings().vosk_model_path is None


def test_the_prompts_folder_is_absolute_whatever_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Asterisk looks a relative sound name up under its own sounds folder
    monkeypatch.chdir(tmp_path)
    assert load_settings().prompts_cache_dir == tmp_path.resolve() / "var" / "prompts"
    assert load_settings(prompts_cache_dir="/srv/prompts").prompts_cache_dir == Path("/srv/prompts")
    with pytest.raises(SettingsError, match=r"PROMPTS_ASTERISK_DIR.*absolute"):
        load_settings(prompts_asterisk_dir="prompts")
