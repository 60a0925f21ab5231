"""`callcenter asterisk render`: the shipped configuration filled in with the settings."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from pydantic import SecretStr

from callcenter.acd.service import AcdSettings
from callcenter.asterisk.conf_render import (
    HOLD_FILE,
    AsteriskConfValues,
    ConfRenderError,
    render_conf,
    values_from_settings,
)
from callcenter.config import Settings
from tests.adapters.asterisk.test_asterisk_conf_parser import parse_conf, parse_dialplan
from tests.support.paths import REPO_ROOT
from tests.support.processes import clean_env

VALUES = AsteriskConfValues(
    inbound_number="88005553535",
    agi_host="127.0.0.2",
    agi_port=4599,
    recordings_dir=Path("/srv/callcenter/recordings"),
    ami_port=5039,
    ami_username="platform",
    ami_secret="actor-secret-0123456789",
    ami_events_username="watcher",
    ami_events_secret="reader-secret-0123456789",
    voicemail_pin="24681357",
    sip_bind="127.0.0.1:5070",
)


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    out = tmp_path / "etc"
    render_conf(dataclasses.replace(VALUES, runtime_dir=tmp_path / "state"), out)
    return out


def _read(out: Path, name: str) -> str:
    return (out / name).read_text(encoding="utf-8")


def test_render_fills_every_placeholder_with_the_settings(rendered: Path) -> None:
    for path in rendered.glob("*.conf"):
        assert "@@" not in path.read_text(encoding="utf-8"), path.name
    dialplan = parse_dialplan(parse_conf(_read(rendered, "extensions.conf")))
    assert list(dialplan["from-trunk"].extens) == ["88005553535"]
    agi = sorted(s.args for ctx in dialplan.values() for s in ctx.steps() if s.app == "AGI")
    assert agi == [
        f"agi://127.0.0.2:4599/{script}"
        for script in ("acd-callback", "acd-join", "acd-wait", "dialer", "ivr")
    ]
    extensions = parse_conf(_read(rendered, "extensions.conf"))
    assert extensions.get("globals", "CC_RECORDINGS_DIR") == "/srv/callcenter/recordings"
    assert extensions.get("globals", "CC_OUTBOUND_CALLERID") == "88005553535"
    assert (
        parse_conf(_read(rendered, "pjsip.conf")).get("transport-udp", "bind") == "127.0.0.1:5070"
    )


def test_manager_conf_gets_the_users_secrets_and_port_and_is_not_world_readable(
    rendered: Path,
) -> None:
    manager = parse_conf(_read(rendered, "manager.conf"))
    assert manager.get("general", "port") == "5039"
    assert manager.get("platform", "secret") == "actor-secret-0123456789"
    assert manager.get("watcher", "secret") == "reader-secret-0123456789"
    assert (rendered / "manager.conf").stat().st_mode & 0o007 == 0
    assert (rendered / "voicemail.conf").stat().st_mode & 0o007 == 0
    assert "8800 => 24681357," in _read(rendered, "voicemail.conf")


def test_runtime_dir_holds_everything_asterisk_writes(rendered: Path, tmp_path: Path) -> None:
    asterisk = parse_conf(_read(rendered, "asterisk.conf"))
    assert asterisk.get("directories", "astetcdir") == str(rendered)
    state = tmp_path / "state"
    for key, sub in (
        ("astspooldir", "spool"), ("astrundir", "run"), ("astlogdir", "log"),
        ("astdbdir", "lib"), ("astcachedir", "cache"),
    ):  # fmt: skip
        assert asterisk.get("directories", key) == str(state / sub)
        assert (state / sub).is_dir()


def test_without_runtime_dir_asterisk_keeps_its_usual_directories(tmp_path: Path) -> None:
    render_conf(VALUES, tmp_path / "etc")
    asterisk = parse_conf(_read(tmp_path / "etc", "asterisk.conf"))
    assert asterisk.get("directories", "astspooldir") == "/var/spool/asterisk"
    assert asterisk.get("directories", "astmoddir") is None  # the binary's own default


def test_music_on_hold_class_has_an_8khz_16bit_mono_file(rendered: Path) -> None:
    moh = parse_conf(_read(rendered, "musiconhold.conf"))
    directory = Path(moh.get("default", "directory") or "")
    assert directory == rendered / HOLD_FILE.parent
    files = list(directory.glob("*.wav"))
    assert files
    with wave.open(str(files[0])) as hold:
        assert (hold.getframerate(), hold.getsampwidth(), hold.getnchannels()) == (8000, 2, 1)
        assert hold.getnframes() >= 8000 * 3
        assert max(hold.readframes(hold.getnframes())) > 0  # a tone, not silence


def test_a_rerender_keeps_the_sites_own_files(rendered: Path) -> None:
    site = rendered / "pjsip_site.conf"
    site.write_text("[101](operator-endpoint)\n", encoding="utf-8")
    render_conf(VALUES, rendered)
    assert site.read_text(encoding="utf-8") == "[101](operator-endpoint)\n"


def test_rendering_over_the_shipped_files_is_refused() -> None:
    with pytest.raises(ConfRenderError, match="refusing"):
        render_conf(VALUES, REPO_ROOT / "asterisk_conf")


def test_a_placeholder_without_a_value_fails_naming_it(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "x.conf").write_text("[a]\nkey = @@NO_SUCH_SETTING@@\n", encoding="utf-8")
    with pytest.raises(ConfRenderError, match=r"x\.conf: .*NO_SUCH_SETTING"):
        render_conf(VALUES, tmp_path / "out", source_dir=source)
    assert not (tmp_path / "out" / "x.conf").exists()


def test_a_malformed_placeholder_left_after_rendering_fails(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "x.conf").write_text("[a]\n\nkey = @@inbound_number@@\n", encoding="utf-8")
    with pytest.raises(ConfRenderError, match=r"x\.conf, line 3"):
        render_conf(VALUES, tmp_path / "out", source_dir=source)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"ami_secret": "has;semicolon-12345"}, "AMI_SECRET"),
        ({"ami_events_secret": "short"}, "AMI_EVENTS_SECRET"),
        ({"ami_secret": "new\nline-0123456789"}, "AMI_SECRET"),
        ({"agi_port": 0}, "AGI_PORT"),
        ({"agi_host": "0.0.0.0"}, "AGI_HOST"),
        ({"agi_host": "bad host"}, "AGI_HOST"),
        ({"recordings_dir": Path("/srv/rec,b(evil)")}, "RECORDINGS_DIR"),
        ({"recordings_dir": Path("relative/rec")}, "RECORDINGS_DIR"),
        ({"inbound_number": "8800x"}, "INBOUND_NUMBER"),
        ({"ami_events_username": "platform"}, "AMI_EVENTS_USERNAME"),
        ({"ami_username": "general"}, "AMI_USERNAME"),
        ({"sip_bind": "5060"}, "SIP_BIND"),
        ({"failover_queue": "line1,t"}, "FAILOVER_QUEUE"),
        ({"callback_digit": "22"}, "CALLBACK_DIGIT"),
    ],
)
def test_values_that_would_break_a_file_are_refused(
    tmp_path: Path, change: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfRenderError, match=named):
        render_conf(dataclasses.replace(VALUES, **change), tmp_path / "out")  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_values_from_settings_generate_missing_secrets_only(tmp_path: Path) -> None:
    settings = Settings(ami_secret=SecretStr(""), agi_host="0.0.0.0", recordings_dir=Path("rec"))
    values, generated = values_from_settings(settings)
    assert set(generated) == {"CALLCENTER_AMI_SECRET", "CALLCENTER_AMI_EVENTS_SECRET"}
    assert values.ami_secret == generated["CALLCENTER_AMI_SECRET"]
    assert values.ami_events_secret == generated["CALLCENTER_AMI_EVENTS_SECRET"]
    assert values.ami_secret != values.ami_events_secret
    assert len(values.ami_secret) >= 24
    assert values.agi_host == "127.0.0.1"  # a listen-everywhere address is reached on loopback
    assert values.recordings_dir.is_absolute()

    given = Settings(ami_secret=SecretStr("from-the-environment-1"))
    values, generated = values_from_settings(given, events_secret="events-from-env-1")
    assert generated == {}
    assert (values.ami_secret, values.ami_events_secret) == (
        "from-the-environment-1",
        "events-from-env-1",
    )


def test_the_failover_queue_and_the_callback_key_come_from_the_platform(tmp_path: Path) -> None:
    # one source each: CALLCENTER_AGI_FAILOVER_QUEUE, and the ACD's callback digit
    values, _ = values_from_settings(Settings(agi_failover_queue="line2"))
    render_conf(values, tmp_path / "etc")
    text = _read(tmp_path / "etc", "extensions.conf")
    assert re.search(r"^CC_FAILOVER_QUEUE = line2$", text, re.MULTILINE)
    exit_context = text[text.index("[acd-exit]") :]
    assert re.search(rf"^exten => {AcdSettings().callback_digit},1,", exit_context, re.MULTILINE)


def _cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter", "asterisk", "render", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_renders_from_the_environment_and_shows_no_given_secret(tmp_path: Path) -> None:
    result = _cli(
        "--out", "etc", "--runtime-dir", "state",
        cwd=tmp_path,
        CALLCENTER_AMI_SECRET="env-actor-secret-1",
        CALLCENTER_AMI_EVENTS_SECRET="env-reader-secret-1",
        CALLCENTER_INBOUND_NUMBER="88002000000",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "rendered" in result.stdout
    assert "asterisk -C" in result.stdout
    assert "env-actor-secret-1" not in result.stdout + result.stderr
    assert "recording-notice.wav is missing" in result.stderr  # the IVR-down notice is optional
    manager = parse_conf((tmp_path / "etc" / "manager.conf").read_text(encoding="utf-8"))
    assert manager.get("callcenter", "secret") == "env-actor-secret-1"
    assert manager.get("callcenter-events", "secret") == "env-reader-secret-1"
    assert "exten => 88002000000,1," in (tmp_path / "etc" / "extensions.conf").read_text()


def test_cli_prints_a_generated_secret_once_and_writes_the_same_one(tmp_path: Path) -> None:
    result = _cli("--out", "etc", cwd=tmp_path, CALLCENTER_AMI_SECRET="env-actor-secret-1")
    assert result.returncode == 0, result.stderr
    shown = re.findall(r"^generated CALLCENTER_AMI_EVENTS_SECRET=(\S+)$", result.stdout, re.M)
    assert len(shown) == 1
    manager = parse_conf((tmp_path / "etc" / "manager.conf").read_text(encoding="utf-8"))
    assert manager.get("callcenter-events", "secret") == shown[0]


def test_cli_stops_with_one_line_on_a_value_it_cannot_render(tmp_path: Path) -> None:
    result = _cli("--out", "etc", cwd=tmp_path, CALLCENTER_AGI_PORT="0")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "AGI_PORT" in lines[0]
    assert not (tmp_path / "etc").exists()
