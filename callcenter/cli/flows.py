"""IVR flow tools: `flows check [DIR]`, `flows reload`."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from callcenter.cli.common import fail, settings_or_exit, setup_logging
from callcenter.config import Settings

QueuesConfOption = Annotated[
    Path | None,
    typer.Option(
        "--queues-conf",
        help="queues.conf whose queues flows may name (default: the shipped asterisk_conf/).",
    ),
]


def _check(settings: Settings, flows_dir: Path, queues_conf: Path | None) -> bool:
    """Check every flow of `flows_dir`, print the result; True when all pass."""
    from callcenter.domain.ivr_schema import shape_of
    from callcenter.inbound.flows import FlowLoader, default_queues, queues_from_conf
    from callcenter.speech.tts import PromptRenderer, TtsUnavailable

    queues: frozenset[str] | None
    if queues_conf is not None:
        try:
            queues = queues_from_conf(queues_conf)
        except OSError as exc:
            fail(f"cannot read {queues_conf}: {exc.strerror or exc}")
    else:
        queues = default_queues()
    renderer = PromptRenderer(
        settings.prompts_cache_dir, voice=settings.tts_voice, rate=settings.tts_rate
    )
    loader = FlowLoader(renderer, known_queues=queues)
    try:
        report = asyncio.run(loader.check_dir(flows_dir))
    except FileNotFoundError as exc:
        fail(str(exc))
    except TtsUnavailable as exc:
        fail(f"prompt lengths cannot be measured: {exc}")
    except OSError as exc:
        fail(f"cannot write prompts to {settings.prompts_cache_dir}: {exc.strerror or exc}")
    for name, loaded in sorted(report.flows.items()):
        levels = max(shape_of(loaded.flow)[0].levels.values(), default=0)
        longest = loaded.longest
        said = f", longest prompt {longest[1]:.1f} s ({longest[0]})" if longest else ""
        typer.echo(
            f"{loaded.file}: flow {name!r} OK: {len(loaded.flow.nodes)} nodes, "
            f"{levels} levels{said}"
        )
    for error in report.errors:
        print(f"{error}", file=sys.stderr)
    if not report.files:
        print(f"{flows_dir}: no flow files (*.yaml, *.yml)", file=sys.stderr)
        return False
    if report.errors:
        print(
            f"callcenter: {len(report.errors)} problem(s) in the flows of {flows_dir}",
            file=sys.stderr,
        )
    return report.ok


def check(
    flows_dir: Annotated[
        Path | None,
        typer.Argument(help="Directory of flow files (default: CALLCENTER_FLOWS_DIR)."),
    ] = None,
    queues_conf: QueuesConfOption = None,
) -> None:
    """Check every IVR flow: schema, 4 levels of 4 options, names, 15 s per prompt."""
    settings = settings_or_exit()
    setup_logging("WARNING")
    if not _check(settings, flows_dir or settings.flows_dir, queues_conf):
        raise typer.Exit(1)


def reload(queues_conf: QueuesConfOption = None) -> None:
    """Check the flows, then have the running platform load them (no restart)."""
    from callcenter.inbound.flows import request_reload

    settings = settings_or_exit()
    setup_logging("WARNING")
    if not _check(settings, settings.flows_dir, queues_conf):
        print("callcenter: nothing reloaded; calls keep the flows in service", file=sys.stderr)
        raise typer.Exit(1)
    try:
        trigger = request_reload(settings.flows_dir, datetime.now(UTC))
    except OSError as exc:
        fail(f"cannot signal the reload ({exc.strerror or exc})")
    typer.echo(f"reload requested ({trigger}): the next calls use these flows")


def register(app: typer.Typer) -> None:
    flows = typer.Typer(
        help="IVR flows (CALLCENTER_FLOWS_DIR): check them, reload them.", no_args_is_help=True
    )
    flows.command("check")(check)
    flows.command("reload")(reload)
    app.add_typer(flows, name="flows")
