"""Speech tools: `say`, `asr`, `prompts build`."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from callcenter.cli.common import fail, settings_or_exit, setup_logging


def say(
    text: Annotated[str, typer.Argument(help="Russian text; numbers, money, dates are worded.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="WAV file to write (8 kHz, 16-bit, mono).")
    ],
    raw: Annotated[
        bool, typer.Option("--raw", help="Say the text as written, numbers not worded.")
    ] = False,
) -> None:
    """Render a text to an Asterisk-ready WAV file and print how long it takes to say."""
    from callcenter.speech.tts import PromptRenderer, TtsError

    settings = settings_or_exit()
    setup_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="callcenter-say-") as tmp:
        renderer = PromptRenderer(Path(tmp), voice=settings.tts_voice, rate=settings.tts_rate)
        try:
            prompt = asyncio.run(renderer.render(text, normalise=not raw))
            shutil.copyfile(prompt.path, out)
        except TtsError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
    typer.echo(f"text: {renderer.spoken_text(text, normalise=not raw)}")
    typer.echo(f"{out}: {prompt.duration_seconds:.2f} s (8 kHz, 16-bit, mono WAV)")


def asr(
    file: Annotated[
        Path, typer.Argument(help="WAV file, 16-bit PCM (what RECORD FILE ... wav makes).")
    ],
    meter: Annotated[
        bool,
        typer.Option("--meter", help="Listen for a meter reading only and print its digits."),
    ] = False,
) -> None:
    """Print what the speech recogniser hears in a recording (model: CALLCENTER_VOSK_MODEL_PATH)."""
    from callcenter.speech.asr import (
        AsrError,
        MeterReadingRecognizer,
        SpeechRecognizer,
        VoskModel,
    )

    settings = settings_or_exit()
    setup_logging("WARNING")
    if not file.exists() and not Path(f"{file}.wav").exists():
        fail(f"{file}: no such file")
    try:
        model = VoskModel.load(settings.vosk_model_path)
        if meter:
            reader = MeterReadingRecognizer(model)
            reading = reader.reading(reader.recognizer.recognise_file(file))
            typer.echo(f"heard: {reading.text or '(nothing)'}")
            typer.echo(f"digits: {reading.digits or '(not a number)'}")
        else:
            heard = SpeechRecognizer(model).recognise_file(file)
            typer.echo(f"heard: {heard.text or '(nothing)'}")
    except AsrError as exc:
        fail(str(exc))


def build_prompts(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="render into this directory instead of CALLCENTER_PROMPTS_CACHE_DIR "
            "(e.g. one copied to, or mounted on, Asterisk's host)",
        ),
    ] = None,
) -> None:
    """Render every prompt of every IVR flow (CALLCENTER_FLOWS_DIR) into the prompt cache."""
    from callcenter.speech.prompts import (
        PROMPT_LIMIT_SECONDS,
        FlowPromptError,
        build_flow_prompts,
        collect_flow_prompts,
    )
    from callcenter.speech.tts import PromptRenderer, TtsError

    settings = settings_or_exit()
    setup_logging("WARNING")
    target = settings.prompts_cache_dir if out is None else out.absolute()
    renderer = PromptRenderer(target, voice=settings.tts_voice, rate=settings.tts_rate)
    try:
        prompts = collect_flow_prompts(settings.flows_dir)
        report = asyncio.run(build_flow_prompts(renderer, prompts))
    except (FlowPromptError, TtsError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write prompts to {target}: {exc.strerror or exc}")
    files = {b.rendered.path for b in report.built}
    typer.echo(
        f"rendered {len(report.built)} prompts ({len(files)} distinct) of the flows in "
        f"{settings.flows_dir} into {renderer.cache_dir}"
    )
    if report.templates:
        typer.echo(f"{len(report.templates)} templates with {{fields}} are said during calls")
    longest = report.longest
    if longest is None:
        typer.echo("no prompts to render")
        return
    typer.echo(
        f"longest: {longest.rendered.duration_seconds:.1f} s, "
        f"{longest.prompt.file}: {longest.prompt.where}"
    )
    for built in report.over_limit():
        print(
            f"callcenter: warning: {built.prompt.file}: {built.prompt.where} takes "
            f"{built.rendered.duration_seconds:.1f} s to say, over the "
            f"{PROMPT_LIMIT_SECONDS:.0f} s a menu prompt may take",
            file=sys.stderr,
        )


def register(app: typer.Typer) -> None:
    app.command()(say)
    app.command()(asr)
    prompts = typer.Typer(help="IVR prompts: render them ahead of calls.", no_args_is_help=True)
    prompts.command("build")(build_prompts)
    app.add_typer(prompts, name="prompts")
