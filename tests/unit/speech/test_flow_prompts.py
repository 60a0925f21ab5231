"""Finding the prompts of IVR flow files (the contract `callcenter prompts build` relies on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.speech.prompts import FlowPromptError, collect_flow_prompts

FLOW = """\
name: main
greeting_prompt: Здравствуйте! Разговор записывается.
menus:
  root:
    prompt: Нажмите 1 для передачи показаний, 2 для справки о задолженности.
    options:
      - key: "1"
        prompt: [Назовите показания счётчика., После сигнала.]
      - key: "2"
        say: не подсказка
        retry_prompt: Ваша задолженность {amount}.
prompts_note: не подсказка, ключ не оканчивается на _prompt
"""


def test_prompts_are_found_under_prompt_keys_at_any_depth(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(FLOW, encoding="utf-8")
    nested = tmp_path / "branch"
    nested.mkdir()
    (nested / "outage.yml").write_text("prompt: Плановое отключение.\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("prompt: не YAML-файл потока\n", encoding="utf-8")

    found = [(p.file.name, p.where, p.text) for p in collect_flow_prompts(tmp_path)]

    assert found == [
        ("outage.yml", "prompt", "Плановое отключение."),
        ("main.yaml", "greeting_prompt", "Здравствуйте! Разговор записывается."),
        (
            "main.yaml",
            "menus.root.prompt",
            "Нажмите 1 для передачи показаний, 2 для справки о задолженности.",
        ),
        ("main.yaml", "menus.root.options[0].prompt[0]", "Назовите показания счётчика."),
        ("main.yaml", "menus.root.options[0].prompt[1]", "После сигнала."),
        ("main.yaml", "menus.root.options[1].retry_prompt", "Ваша задолженность {amount}."),
    ]


def test_templates_are_recognised(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(FLOW, encoding="utf-8")
    templates = [p.where for p in collect_flow_prompts(tmp_path) if p.is_template]
    assert templates == ["menus.root.options[1].retry_prompt"]


def test_a_prompt_that_is_not_text_is_an_error_naming_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("menu:\n  prompt: {file: hello}\n", encoding="utf-8")
    with pytest.raises(FlowPromptError, match=r"bad\.yaml: menu\.prompt must be a text"):
        collect_flow_prompts(tmp_path)


def test_broken_yaml_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("prompt: [unclosed\n", encoding="utf-8")
    with pytest.raises(FlowPromptError, match=r"broken\.yaml: not valid YAML"):
        collect_flow_prompts(tmp_path)


def test_missing_flows_directory_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(FlowPromptError, match="CALLCENTER_FLOWS_DIR"):
        collect_flow_prompts(tmp_path / "nowhere")


def test_empty_flows_directory_has_no_prompts(tmp_path: Path) -> None:
    assert collect_flow_prompts(tmp_path) == []
