"""`callcenter say`, `asr` and `prompts build`, the way an administrator runs them."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callcenter.cli import app
from tests.adapters.speech.samples import KOREAN_MODEL_DIR

runner = CliRunner()

LONG_PROMPT = (
    "Для передачи показаний счётчика нажмите один. Для справки о задолженности нажмите два. "
    "Чтобы узнать о плановых и аварийных отключениях в вашем населённом пункте, нажмите три. "
    "Чтобы оставить сообщение или заказать обратный звонок, нажмите четыре. "
    "Для повторного прослушивания нажмите звёздочку."
)


def _env(tmp_path: Path, **extra: str) -> dict[str, str | None]:
    return {
        "CALLCENTER_PROMPTS_CACHE_DIR": str(tmp_path / "prompts"),
        "CALLCENTER_FLOWS_DIR": str(tmp_path / "flows"),
        "CALLCENTER_VOSK_MODEL_PATH": None,  # unset
        **extra,
    }


def _seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        return wav.getnframes() / wav.getframerate()


def test_say_renders_russian_text_with_worded_numbers_and_prints_its_duration(
    tmp_path: Path,
) -> None:
    out = tmp_path / "debt.wav"
    result = runner.invoke(
        app, ["say", "Задолженность 1234,56 руб.", "--out", str(out)], env=_env(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert "одна тысяча двести тридцать четыре рубля пятьдесят шесть копеек" in result.stdout
    printed = re.search(r"debt\.wav: (\d+\.\d\d) s", result.stdout)
    assert printed is not None, result.stdout
    assert float(printed.group(1)) == pytest.approx(_seconds(out), abs=0.01)
    assert not (tmp_path / "prompts").exists()  # ad-hoc texts stay out of the prompt cache


def test_say_with_nothing_to_say_fails_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["say", "  ", "--out", str(tmp_path / "x.wav")], env=_env(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.strip() == "callcenter: error: nothing to say: the text is empty"


def test_prompts_build_renders_every_flow_prompt_and_reports_the_longest(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "main.yaml").write_text(
        "greeting_prompt: Здравствуйте! Разговор записывается.\n"
        "menus:\n"
        "  root:\n"
        f"    prompt: {LONG_PROMPT}\n"
        "    retry_prompt: [Повторите выбор., Здравствуйте! Разговор записывается.]\n"
        "    debt_prompt: Ваша задолженность {amount}.\n",
        encoding="utf-8",
    )
    (flows / "outage.yaml").write_text(
        "prompt: Отключение до 18:00 15.03.2025.\n", encoding="utf-8"
    )

    result = runner.invoke(app, ["prompts", "build"], env=_env(tmp_path))

    assert result.exit_code == 0, result.output
    assert "rendered 5 prompts (4 distinct)" in result.stdout
    assert "1 templates" in result.stdout
    assert re.search(r"longest: \d+\.\d s, .*main\.yaml: menus\.root\.prompt", result.stdout)
    # the long menu prompt breaks the 15 s rule: the administrator is told which one
    assert "main.yaml: menus.root.prompt takes" in result.stderr
    assert "over the 15 s" in result.stderr
    files = sorted((tmp_path / "prompts").glob("*.wav"))
    assert len(files) == 4
    assert max(_seconds(f) for f in files) > 15.0

    # a second build finds everything in the cache: nothing is written again
    stamps = {f: f.stat().st_mtime_ns for f in files}
    again = runner.invoke(app, ["prompts", "build"], env=_env(tmp_path))
    assert again.exit_code == 0, again.output
    assert {f: f.stat().st_mtime_ns for f in files} == stamps


def test_prompts_build_without_a_flows_directory_names_the_setting(tmp_path: Path) -> None:
    result = runner.invoke(app, ["prompts", "build"], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "CALLCENTER_FLOWS_DIR" in result.stderr


@pytest.mark.slow
def test_asr_prints_what_the_recogniser_hears(tmp_path: Path, korean_speech_wav: Path) -> None:
    result = runner.invoke(
        app,
        ["asr", str(korean_speech_wav)],
        env=_env(tmp_path, CALLCENTER_VOSK_MODEL_PATH=str(KOREAN_MODEL_DIR)),
    )
    assert result.exit_code == 0, result.output
    heard = re.fullmatch(r"heard: (.+)\n", result.stdout)
    assert heard is not None, result.stdout
    assert heard.group(1) != "(nothing)"


def test_asr_without_a_model_says_how_to_get_one(tmp_path: Path, korean_speech_wav: Path) -> None:
    result = runner.invoke(app, ["asr", "--meter", str(korean_speech_wav)], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "CALLCENTER_VOSK_MODEL_PATH" in result.stderr
    assert "vosk-model-small-ru" in result.stderr
