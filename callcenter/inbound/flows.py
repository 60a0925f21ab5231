"""IVR flows from files: load and check them, keep the working set, reload it without a restart.

Each `*.yaml` / `*.yml` file under the flows directory (CALLCENTER_FLOWS_DIR) holds one flow
named after the file (`main.yaml` is flow `main`). Loading a file checks, in order:
- it is YAML (a repeated key is an error: YAML would silently keep the last one);
- the schema and the standard's structure rules (`callcenter.domain.ivr_schema`);
- every queue it names exists (the queues of `asterisk_conf/queues.conf`);
- every prompt is said within 15 s: each is rendered by the TTS (into the prompt cache, so the
  first call does not wait for it) and its length measured; templates with `{fields}` are
  measured with typical values.
Every problem is reported with the file, the node and what is wrong.

`FlowRegistry` holds the flows calls use. `reload()` re-checks every file and swaps in those
that pass, one by one; a file that fails keeps its last working version in service (the error
is logged), so a broken edit never takes the IVR down. `watch()` reloads on any change in the
directory, including the `.reload` file that `callcenter flows reload` touches. A call keeps
the flow it started with; the next call gets the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from watchfiles import Change, awatch

from callcenter.domain.dialplan import SHIPPED_CONF_DIR
from callcenter.domain.ivr import IvrMachine
from callcenter.domain.ivr_schema import (
    Flow,
    FlowInvalid,
    FlowIssue,
    parse_flow,
    sample_text,
    template_fields,
)
from callcenter.speech.prompts import PROMPT_LIMIT_SECONDS
from callcenter.speech.tts import PromptRenderer, TtsError, TtsUnavailable

log = logging.getLogger(__name__)

DEFAULT_FLOW = "main"
RELOAD_TRIGGER = ".reload"  # touched by `callcenter flows reload`; watched like the flows
FLOW_SUFFIXES = (".yaml", ".yml")
MAX_FLOW_BYTES = 512 * 1024  # a flow is a few kilobytes; refuse a stray dump


@dataclass(frozen=True)
class FlowError:
    """One problem of one flow file, as `flows check` prints it."""

    file: Path
    node: str | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}: node {self.node!r}" if self.node else str(self.file)
        return f"{where}: {self.problem}"


class FlowFileInvalid(Exception):
    def __init__(self, errors: list[FlowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


class FlowNotFound(LookupError):
    pass


@dataclass(frozen=True)
class LoadedFlow:
    """A checked flow, ready for calls."""

    flow: Flow
    file: Path
    digest: str  # sha256 of the file's bytes
    durations: Mapping[str, float]  # prompt key path -> seconds (templates: typical values)
    loaded_at: datetime
    machine: IvrMachine = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "machine", IvrMachine(self.flow))

    @property
    def name(self) -> str:
        return self.flow.name

    @property
    def longest(self) -> tuple[str, float] | None:
        return max(self.durations.items(), key=lambda item: item[1], default=None)


@dataclass
class CheckReport:
    flows: dict[str, LoadedFlow] = field(default_factory=dict)
    errors: list[FlowError] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- reading files ---------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"the key {key!r} is repeated",
                key_node.start_mark,
            )
        seen[key] = key_node
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def read_flow_document(data: bytes, file: Path) -> object:
    """The YAML document of a flow file; FlowFileInvalid when it is not one clean document."""
    if len(data) > MAX_FLOW_BYTES:
        raise FlowFileInvalid([FlowError(file, None, f"larger than {MAX_FLOW_BYTES} bytes")])
    try:
        text = data.decode("utf-8")
        documents = list(yaml.load_all(text, Loader=_UniqueKeyLoader))
    except UnicodeDecodeError:
        raise FlowFileInvalid([FlowError(file, None, "not UTF-8 text")]) from None
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise FlowFileInvalid([FlowError(file, None, f"not valid YAML: {problem}")]) from None
    if len(documents) != 1:
        raise FlowFileInvalid(
            [FlowError(file, None, f"holds {len(documents)} YAML documents; one flow per file")]
        )
    return documents[0]


def flow_files(flows_dir: Path) -> list[Path]:
    if not flows_dir.is_dir():
        raise FileNotFoundError(
            f"flows directory {flows_dir} does not exist (CALLCENTER_FLOWS_DIR)"
        )
    return sorted(p for p in flows_dir.rglob("*") if p.suffix in FLOW_SUFFIXES and p.is_file())


_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*(\(([^)]*)\))?")


def queues_from_conf(path: Path) -> frozenset[str]:
    """Queue names of an Asterisk queues.conf: its sections but `general` and templates `(!)`."""
    names: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _SECTION.match(line)
        if match is None:
            continue
        name, options = match.group(1).strip(), match.group(3) or ""
        if name == "general" or "!" in options:
            continue
        names.add(name)
    return frozenset(names)


def default_queues() -> frozenset[str] | None:
    """The queues of the shipped asterisk_conf/queues.conf (None when it is not there)."""
    conf = SHIPPED_CONF_DIR / "queues.conf"
    try:
        return queues_from_conf(conf)
    except OSError:
        return None


# --- checking --------------------------------------------------------------------------------


class FlowLoader:
    """Reads and checks flow files; renders their prompts to measure them."""

    def __init__(
        self,
        renderer: PromptRenderer | None,
        *,
        known_queues: Collection[str] | None = None,
        prompt_limit_s: float = PROMPT_LIMIT_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`renderer` None skips the prompt-length rule (only for tools that cannot speak)."""
        self._renderer = renderer
        self._known_queues = known_queues
        self._limit = prompt_limit_s
        self._clock = clock

    async def load_file(self, file: Path) -> LoadedFlow:
        """The checked flow of `file`; FlowFileInvalid lists every problem.

        TtsUnavailable (no espeak-ng) is raised as is: no flow can be checked then.
        """
        try:
            data = await asyncio.to_thread(file.read_bytes)
        except OSError as exc:
            raise FlowFileInvalid([FlowError(file, None, f"cannot read: {exc}")]) from None
        document = read_flow_document(data, file)
        try:
            flow = parse_flow(document, known_queues=self._known_queues)
        except FlowInvalid as exc:
            raise FlowFileInvalid([_error(file, issue) for issue in exc.issues]) from None
        errors: list[FlowError] = []
        if flow.name != file.stem:
            errors.append(
                FlowError(file, None, f"name: {flow.name!r} must match the file name {file.stem!r}")
            )
        durations = await self._measure(flow, file, errors)
        if errors:
            raise FlowFileInvalid(errors)
        digest = hashlib.sha256(data).hexdigest()
        return LoadedFlow(flow, file, digest, durations, self._clock())

    async def _measure(self, flow: Flow, file: Path, errors: list[FlowError]) -> dict[str, float]:
        durations: dict[str, float] = {}
        if self._renderer is None:
            return durations
        for node_id, where, text in flow.all_prompts():
            spoken = sample_text(text) if template_fields(text) else text
            try:
                rendered = await self._renderer.render(spoken)
            except TtsUnavailable:
                raise
            except TtsError as exc:
                errors.append(FlowError(file, node_id, f"{where}: cannot be said: {exc}"))
                continue
            seconds = rendered.duration_seconds
            durations[where] = seconds
            if seconds > self._limit:
                typical = " with typical values" if spoken != text else ""
                errors.append(
                    FlowError(
                        file,
                        node_id,
                        f"{where} takes {seconds:.1f} s to say{typical}; a level's prompt may "
                        f"take at most {self._limit:.0f} s (shorten it or split the level)",
                    )
                )
        return durations

    async def check_dir(self, flows_dir: Path) -> CheckReport:
        """Check every flow file of the directory (FileNotFoundError when there is none)."""
        report = CheckReport(files=await asyncio.to_thread(flow_files, flows_dir))
        names: dict[str, Path] = {}
        for file in report.files:
            try:
                loaded = await self.load_file(file)
            except FlowFileInvalid as exc:
                report.errors.extend(exc.errors)
                continue
            if loaded.name in names:
                report.errors.append(
                    FlowError(file, None, f"flow {loaded.name!r} is also in {names[loaded.name]}")
                )
                continue
            names[loaded.name] = file
            report.flows[loaded.name] = loaded
        return report


def _error(file: Path, issue: FlowIssue) -> FlowError:
    return FlowError(file, issue.node, issue.problem)


# --- the flows in service --------------------------------------------------------------------


@dataclass(frozen=True)
class ReloadReport:
    version: int
    loaded: list[str]  # flows (re)loaded from a changed file
    kept: list[str]  # flows whose file is broken now: the last working version stays
    removed: list[str]  # flows whose file is gone
    errors: list[FlowError]


class FlowRegistry:
    """The flows calls use, swapped atomically as files change (see the module docstring)."""

    def __init__(
        self,
        flows_dir: Path,
        loader: FlowLoader,
        *,
        default_flow: str = DEFAULT_FLOW,
        debounce_ms: int = 300,
    ) -> None:
        self.flows_dir = flows_dir
        self.default_flow = default_flow
        self._loader = loader
        self._debounce_ms = debounce_ms
        self._flows: dict[str, LoadedFlow] = {}
        self._version = 0
        self._changed = asyncio.Condition()
        self._reload_lock = asyncio.Lock()
        self._stop: asyncio.Event | None = None
        self._watcher: asyncio.Task[None] | None = None
        self.last_errors: list[FlowError] = []

    # --- reading ---------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Grows by one on every reload that changed the flows in service."""
        return self._version

    @property
    def names(self) -> list[str]:
        return sorted(self._flows)

    def get(self, name: str | None = None) -> LoadedFlow:
        """The flow `name` (default: the default flow); FlowNotFound when none is loaded."""
        wanted = name or self.default_flow
        loaded = self._flows.get(wanted)
        if loaded is None:
            raise FlowNotFound(f"no IVR flow {wanted!r} is loaded (have: {self.names})")
        return loaded

    async def wait_version(self, version: int) -> int:
        """Wait until `version` is reached (bound it with asyncio.timeout)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._version >= version)
        return self._version

    # --- loading ---------------------------------------------------------------------------

    async def reload(self) -> ReloadReport:
        """Re-check every file and swap in the flows that pass (see the module docstring)."""
        async with self._reload_lock:
            try:
                report = await self._loader.check_dir(self.flows_dir)
            except (FileNotFoundError, TtsUnavailable) as exc:
                log.error("IVR flows not reloaded, the flows in service stay: %s", exc)
                error = FlowError(self.flows_dir, None, str(exc))
                self.last_errors = [error]
                return ReloadReport(self._version, [], sorted(self._flows), [], [error])
            current = dict(self._flows)
            broken_names = {_stem_name(e.file) for e in report.errors}
            loaded = [
                name
                for name, flow in report.flows.items()
                if name not in current or current[name].digest != flow.digest
            ]
            kept = sorted(n for n in current if n in broken_names and n not in report.flows)
            present = {_stem_name(f) for f in report.files}
            removed = sorted(n for n in current if n not in present and n not in report.flows)
            new = {n: f for n, f in current.items() if n not in removed}
            new.update(report.flows)
            if self.default_flow in removed and self.default_flow in current:
                # never leave calls without their default flow: keep serving the last one
                new[self.default_flow] = current[self.default_flow]
                removed.remove(self.default_flow)
                log.error(
                    "IVR flow %r: its file is gone; the last version stays until it is back",
                    self.default_flow,
                )
            for error in report.errors:
                log.error("IVR flow not loaded: %s", error)
            for name in kept:
                log.error("IVR flow %r: the file is broken; the last working version stays", name)
            self.last_errors = report.errors
            if loaded or removed:
                self._flows = new  # one assignment: a call sees the old set or the new one
                async with self._changed:
                    self._version += 1
                    self._changed.notify_all()
                for name in loaded:
                    log.info("IVR flow %r loaded from %s", name, new[name].file)
                for name in removed:
                    log.info("IVR flow %r removed: its file is gone", name)
            return ReloadReport(self._version, sorted(loaded), kept, removed, report.errors)

    # --- watching --------------------------------------------------------------------------

    def start_watching(self) -> None:
        if self._watcher is not None:
            return
        self._stop = asyncio.Event()
        self._watcher = asyncio.create_task(self._watch(self._stop), name="ivr-flows-watch")

    async def stop_watching(self) -> None:
        if self._watcher is None or self._stop is None:
            return
        self._stop.set()
        watcher, self._watcher = self._watcher, None
        with contextlib.suppress(asyncio.CancelledError):
            await watcher

    async def _watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async for _changes in awatch(
                    self.flows_dir,
                    watch_filter=_flow_change,
                    debounce=self._debounce_ms,
                    stop_event=stop,
                ):
                    await self.reload()
            except (FileNotFoundError, RuntimeError, OSError) as exc:
                # the directory vanished or the watcher failed: try again shortly
                log.warning("IVR flows watch of %s interrupted: %s", self.flows_dir, exc)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(5.0):
                        await stop.wait()
            except Exception:
                log.exception("IVR flows reload failed; the flows in service stay")


def _flow_change(change: Change, path: str) -> bool:
    name = Path(path).name
    return name == RELOAD_TRIGGER or Path(path).suffix in FLOW_SUFFIXES


def _stem_name(file: Path) -> str:
    return file.stem


def request_reload(flows_dir: Path, now: datetime) -> Path:
    """Touch the trigger file a running platform watches (`callcenter flows reload`)."""
    trigger = flows_dir / RELOAD_TRIGGER
    trigger.write_text(f"{now.isoformat()}\n", encoding="utf-8")
    return trigger
