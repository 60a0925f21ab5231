"""Flows reloaded without a restart: a broken file never replaces a working flow, a fixed one
comes into service, and the watcher reacts to edits and to `flows reload`."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callcenter.inbound.flows import (
    FlowLoader,
    FlowNotFound,
    FlowRegistry,
    default_queues,
    request_reload,
)
from callcenter.speech.tts import PromptRenderer
from tests.unit.ivr.support import MAIN_FLOW_FILE

GREETING = "greeting_prompt: Здравствуйте! Вы позвонили в контакт-центр."


@pytest.fixture(scope="module")
def prompt_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prompts")


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    directory.mkdir()
    shutil.copy(MAIN_FLOW_FILE, directory / "main.yaml")
    return directory


@pytest.fixture
async def registry(flows_dir: Path, prompt_cache: Path) -> AsyncIterator[FlowRegistry]:
    loader = FlowLoader(
        PromptRenderer(prompt_cache, voice="ru", rate=150), known_queues=default_queues()
    )
    flows = FlowRegistry(flows_dir, loader, debounce_ms=50)
    report = await flows.reload()
    assert report.loaded == ["main"]
    yield flows
    await flows.stop_watching()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


def greeting(flows: FlowRegistry) -> str:
    return flows.get().flow.greeting_prompt


async def test_a_valid_edit_replaces_the_flow(registry: FlowRegistry, flows_dir: Path) -> None:
    before = registry.get()
    edit(flows_dir / "main.yaml", GREETING, "greeting_prompt: Добрый день!")
    report = await registry.reload()
    assert (report.loaded, report.kept, report.errors) == (["main"], [], [])
    assert greeting(registry) == "Добрый день!"
    assert registry.version == 2
    assert before.flow.greeting_prompt != "Добрый день!"  # a call in progress keeps its flow


async def test_a_broken_edit_keeps_the_working_flow(
    registry: FlowRegistry, flows_dir: Path
) -> None:
    working = registry.get()
    edit(flows_dir / "main.yaml", '"4": other', '"4": other\n      "5": other')
    report = await registry.reload()
    assert report.kept == ["main"]
    assert report.loaded == []
    assert [e.node for e in report.errors] == ["main"]
    assert registry.get() is working
    assert registry.version == 1
    assert registry.last_errors == report.errors

    edit(flows_dir / "main.yaml", '\n      "5": other', "")  # fixed again
    report = await registry.reload()
    assert report.errors == []
    assert registry.version == 1  # same content as the flow in service: nothing to swap


async def test_flows_come_and_go_but_the_default_stays(
    registry: FlowRegistry, flows_dir: Path
) -> None:
    night = flows_dir / "night.yaml"
    night.write_text(
        (flows_dir / "main.yaml").read_text("utf-8").replace("name: main", "name: night"),
        "utf-8",
    )
    report = await registry.reload()
    assert report.loaded == ["night"]
    assert registry.names == ["main", "night"]
    night.unlink()
    (flows_dir / "main.yaml").unlink()
    report = await registry.reload()
    assert report.removed == ["night"]
    assert registry.names == ["main"]  # calls are never left without their default flow
    with pytest.raises(FlowNotFound, match="night"):
        registry.get("night")


async def test_a_missing_directory_keeps_everything(
    registry: FlowRegistry, flows_dir: Path
) -> None:
    shutil.rmtree(flows_dir)
    report = await registry.reload()
    assert report.kept == ["main"]
    assert "does not exist" in str(report.errors[0])
    assert registry.names == ["main"]


async def reloaded_when(
    registry: FlowRegistry, poke: Callable[[], None], within: float = 10.0
) -> None:
    """Start the watcher and poke until it reloads (it may need a moment to start)."""
    version = registry.version
    registry.start_watching()
    async with asyncio.timeout(within):
        while registry.version == version:
            poke()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await registry.wait_version(version + 1)


async def test_the_watcher_reloads_an_edited_file(registry: FlowRegistry, flows_dir: Path) -> None:
    text = (flows_dir / "main.yaml").read_text("utf-8").replace(GREETING, "greeting_prompt: Алло!")
    await reloaded_when(registry, lambda: (flows_dir / "main.yaml").write_text(text, "utf-8"))
    assert greeting(registry) == "Алло!"


async def test_flows_reload_is_heard_by_the_watcher(
    registry: FlowRegistry, flows_dir: Path
) -> None:
    # an edit made while nothing watched (e.g. a deploy), then `callcenter flows reload`
    edit(flows_dir / "main.yaml", GREETING, "greeting_prompt: Слушаю!")

    def reload_command() -> None:
        request_reload(flows_dir, datetime.now(UTC))

    await reloaded_when(registry, reload_command)
    assert greeting(registry) == "Слушаю!"


async def test_the_watcher_stops_cleanly(registry: FlowRegistry) -> None:
    registry.start_watching()
    registry.start_watching()  # once is enough
    async with asyncio.timeout(5):
        await registry.stop_watching()
    await registry.stop_watching()
