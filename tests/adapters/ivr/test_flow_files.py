"""Flow files checked with the real speech synthesiser, and the `flows check` / `flows reload`
commands: what passes, what is rejected, and how the errors read."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from callcenter.cli import flows as flows_cli
from callcenter.inbound.flows import (
    RELOAD_TRIGGER,
    FlowFileInvalid,
    FlowLoader,
    default_queues,
    queues_from_conf,
)
from callcenter.speech.tts import PromptRenderer
from tests.unit.ivr.support import MAIN_FLOW_FILE, chain_of_menus, main_document, menu, operator
from tests.unit.ivr.support import small_document as _small_document

LONG_PROMPT = (
    "Уважаемые клиенты! Если вы хотите узнать о плановых и аварийных отключениях "
    "электроэнергии в вашем населённом пункте, а также о сроках восстановления "
    "электроснабжения, нажмите один, а если вас интересует что-то другое, "
    "оставайтесь на линии и дождитесь ответа оператора."
)


@pytest.fixture(scope="module")
def prompt_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prompts")


@pytest.fixture
def loader(prompt_cache: Path) -> FlowLoader:
    renderer = PromptRenderer(prompt_cache, voice="ru", rate=150)
    return FlowLoader(renderer, known_queues=default_queues())


def small_document(nodes: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    document = _small_document(nodes, **extra)
    document["name"] = "small"
    return document


def write_flow(directory: Path, document: dict[str, Any], name: str = "small") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def errors_of(exc: pytest.ExceptionInfo[FlowFileInvalid]) -> list[str]:
    return [str(e) for e in exc.value.errors]


async def test_the_shipped_flows_pass_and_every_prompt_fits_in_15_seconds(
    loader: FlowLoader,
) -> None:
    report = await loader.check_dir(MAIN_FLOW_FILE.parent)
    assert report.errors == []
    loaded = report.flows["main"]
    assert loaded.file == MAIN_FLOW_FILE
    assert len(loaded.durations) == sum(1 for _ in loaded.flow.all_prompts())
    assert 5.0 < max(loaded.durations.values()) <= 15.0
    assert all(seconds > 0.5 for seconds in loaded.durations.values())


async def test_a_twenty_second_prompt_is_rejected_naming_file_and_node(
    loader: FlowLoader, tmp_path: Path
) -> None:
    nodes = {"main": menu(LONG_PROMPT, {"1": "op"}), "op": operator()}
    path = write_flow(tmp_path, small_document(nodes))
    with pytest.raises(FlowFileInvalid) as caught:
        await loader.load_file(path)
    (error,) = caught.value.errors
    assert (error.file, error.node) == (path, "main")
    assert str(error).startswith(f"{path}: node 'main': nodes.main.prompt takes ")
    seconds = float(error.problem.split(" takes ")[1].split(" s ")[0])
    assert 17.0 < seconds < 25.0
    assert "at most 15 s" in error.problem


async def test_a_template_is_measured_with_typical_values(
    loader: FlowLoader, tmp_path: Path
) -> None:
    document = main_document()
    document["nodes"]["balance"]["debt_prompt"] = (
        "Уважаемый клиент, по состоянию на сегодняшний день задолженность по вашему "
        "лицевому счёту {account} составляет {amount}. Пожалуйста, оплатите её до конца "
        "текущего месяца."
    )
    path = write_flow(tmp_path, document, name="main")
    with pytest.raises(FlowFileInvalid) as caught:
        await loader.load_file(path)
    (error,) = caught.value.errors
    assert error.node == "balance"
    assert "with typical values" in error.problem


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        (
            {"main": menu("Выбор.", {str(k): "op" for k in range(1, 6)}), "op": operator()},
            "node 'main': options: 5 choices on one level; the standard allows at most 4",
        ),
        (
            chain_of_menus(5),
            "node 'm5': is on level 5; the standard allows 4 menu levels with the operator "
            "as level 5",
        ),
    ],
    ids=["five-options", "five-levels"],
)
async def test_the_standards_limits_are_enforced_on_files(
    loader: FlowLoader, tmp_path: Path, nodes: dict[str, Any], expected: str
) -> None:
    path = write_flow(tmp_path, small_document(nodes))
    with pytest.raises(FlowFileInvalid) as caught:
        await loader.load_file(path)
    assert f"{path}: {expected}" in errors_of(caught)


async def test_yaml_mistakes_are_reported_with_the_file(loader: FlowLoader, tmp_path: Path) -> None:
    repeated = tmp_path / "small.yaml"
    repeated.write_text(
        MAIN_FLOW_FILE.read_text("utf-8").replace('"4": other', '"3": other'), "utf-8"
    )
    with pytest.raises(FlowFileInvalid) as caught:
        await loader.load_file(repeated)
    assert "the key '3' is repeated" in errors_of(caught)[0]

    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n", "utf-8")
    with pytest.raises(FlowFileInvalid, match=r"broken\.yaml: not valid YAML"):
        await loader.load_file(broken)

    two = tmp_path / "two.yaml"
    two.write_text("name: a\n---\nname: b\n", "utf-8")
    with pytest.raises(FlowFileInvalid, match="holds 2 YAML documents"):
        await loader.load_file(two)


async def test_the_flow_is_named_after_its_file(loader: FlowLoader, tmp_path: Path) -> None:
    path = write_flow(tmp_path, small_document(chain_of_menus(1)), name="other")
    with pytest.raises(FlowFileInvalid, match="name: 'small' must match the file name 'other'"):
        await loader.load_file(path)


def test_queues_come_from_queues_conf(tmp_path: Path) -> None:
    assert default_queues() == {"line1", "line2", "line3", "branch-overflow"}
    conf = tmp_path / "queues.conf"
    conf.write_text("[general]\n[tpl](!)\n[sales](tpl)\n[night]\n; [commented]\n", "utf-8")
    assert queues_from_conf(conf) == {"sales", "night"}


# --- the commands ----------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, prompt_cache: Path, tmp_path: Path) -> typer.Typer:
    monkeypatch.setenv("CALLCENTER_PROMPTS_CACHE_DIR", str(prompt_cache))
    monkeypatch.setenv("CALLCENTER_FLOWS_DIR", str(tmp_path / "flows"))
    app = typer.Typer()
    flows_cli.register(app)

    @app.command()
    def version() -> None:  # a second command, so that `flows` stays a sub-command
        """Unused."""

    return app


def test_flows_check_passes_on_the_shipped_flows(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["flows", "check", str(MAIN_FLOW_FILE.parent)])
    assert result.exit_code == 0, result.output
    assert "flow 'main' OK: 20 nodes, 4 levels, longest prompt" in result.stdout


def test_flows_check_fails_with_every_problem(cli: typer.Typer, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    nodes = {"main": menu(LONG_PROMPT, {str(k): "op" for k in range(1, 6)}), "op": operator()}
    path = write_flow(flows, small_document(nodes))
    shutil.copy(MAIN_FLOW_FILE, flows / "main.yaml")
    result = CliRunner().invoke(cli, ["flows", "check"])
    assert result.exit_code == 1
    assert "flow 'main' OK" in result.stdout
    assert f"{path}: node 'main': options: 5 choices on one level" in result.stderr
    assert "problem(s) in the flows of" in result.stderr


def test_flows_check_of_an_empty_or_missing_directory_fails(
    cli: typer.Typer, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["flows", "check", str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert "no flow files" in result.stderr
    result = CliRunner().invoke(cli, ["flows", "check", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "CALLCENTER_FLOWS_DIR" in result.stderr


def test_flows_reload_signals_only_flows_that_pass(cli: typer.Typer, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    write_flow(flows, small_document(chain_of_menus(5)))
    result = CliRunner().invoke(cli, ["flows", "reload"])
    assert result.exit_code == 1
    assert "nothing reloaded" in result.stderr
    assert not (flows / RELOAD_TRIGGER).exists()

    write_flow(flows, small_document(chain_of_menus(2)))
    result = CliRunner().invoke(cli, ["flows", "reload"])
    assert result.exit_code == 0, result.output
    assert (flows / RELOAD_TRIGGER).exists()
    assert "reload requested" in result.stdout
