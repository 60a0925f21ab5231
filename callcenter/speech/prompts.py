"""The prompts of the IVR flows, rendered ahead of calls (`callcenter prompts build`).

Contract with the flow files in the flows directory (the IVR flow schema keeps it):
- every `*.yaml` and `*.yml` file under the directory, subdirectories included, is read;
- every value under a mapping key named `prompt`, or ending in `_prompt` (`retry_prompt`,
  `goodbye_prompt`...), at any depth, is a prompt: a string, or a list of strings said one after
  another;
- a string with `{name}` fields is a template completed during the call (amounts, dates) and is
  not rendered ahead;
- any other value under such a key is an error naming the file and the key path.
Numbers in prompts are worded by the normaliser (`numbers_ru.speakable_text`) before synthesis.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from callcenter.speech.tts import PromptRenderer, RenderedPrompt, TtsError, TtsUnavailable

PROMPT_LIMIT_SECONDS = 15.0  # a menu level's prompt must be said within 15 s (IVR standard)
_TEMPLATE_FIELD = re.compile(r"\{[A-Za-z_][\w.]*\}")


class FlowPromptError(Exception):
    """A flow file cannot be read for prompts; the message names the file (and key)."""


@dataclass(frozen=True)
class FlowPrompt:
    file: Path
    where: str  # key path inside the file, e.g. "menus.main.prompt" or "nodes[2].retry_prompt[0]"
    text: str

    @property
    def is_template(self) -> bool:
        return _TEMPLATE_FIELD.search(self.text) is not None


@dataclass(frozen=True)
class BuiltPrompt:
    prompt: FlowPrompt
    rendered: RenderedPrompt


@dataclass(frozen=True)
class BuildReport:
    built: list[BuiltPrompt]
    templates: list[FlowPrompt]  # said during calls, not rendered ahead

    @property
    def longest(self) -> BuiltPrompt | None:
        return max(self.built, key=lambda b: b.rendered.duration_seconds, default=None)

    def over_limit(self, limit: float = PROMPT_LIMIT_SECONDS) -> list[BuiltPrompt]:
        return [b for b in self.built if b.rendered.duration_seconds > limit]


def _is_prompt_key(key: object) -> bool:
    return isinstance(key, str) and (key == "prompt" or key.endswith("_prompt"))


def _walk(node: object, where: str, file: Path) -> Iterator[FlowPrompt]:
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            if _is_prompt_key(key):
                yield from _prompt_values(value, path, file)
            else:
                yield from _walk(value, path, file)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{where}[{index}]", file)


def _prompt_values(value: object, where: str, file: Path) -> Iterator[FlowPrompt]:
    if isinstance(value, str):
        yield FlowPrompt(file, where, value)
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        for index, item in enumerate(value):
            yield FlowPrompt(file, f"{where}[{index}]", item)
    else:
        raise FlowPromptError(f"{file}: {where} must be a text or a list of texts")


def flow_files(flows_dir: Path) -> list[Path]:
    if not flows_dir.is_dir():
        raise FlowPromptError(f"flows directory {flows_dir} does not exist (CALLCENTER_FLOWS_DIR)")
    return sorted(p for p in flows_dir.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def collect_flow_prompts(flows_dir: Path) -> list[FlowPrompt]:
    """Every prompt of every flow file, in file order (blocking: reads files)."""
    prompts: list[FlowPrompt] = []
    for file in flow_files(flows_dir):
        try:
            documents = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise FlowPromptError(f"{file}: not valid YAML: {exc}") from None
        for document in documents:
            prompts.extend(_walk(document, "", file))
    return prompts


async def build_flow_prompts(renderer: PromptRenderer, prompts: list[FlowPrompt]) -> BuildReport:
    """Render every prompt but the templates (each distinct text once; cached ones cost nothing)."""
    built: list[BuiltPrompt] = []
    templates: list[FlowPrompt] = []
    rendered: dict[str, RenderedPrompt] = {}
    for prompt in prompts:
        if prompt.is_template:
            templates.append(prompt)
            continue
        if prompt.text not in rendered:
            try:
                rendered[prompt.text] = await renderer.render(prompt.text)
            except TtsUnavailable:
                raise
            except TtsError as exc:
                raise FlowPromptError(f"{prompt.file}: {prompt.where}: {exc}") from exc
        built.append(BuiltPrompt(prompt, rendered[prompt.text]))
    return BuildReport(built, templates)
