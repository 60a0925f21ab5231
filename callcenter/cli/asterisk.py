"""Asterisk tools: `asterisk render`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from callcenter.cli.common import fail, settings_or_exit


def render(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Directory to write (e.g. /etc/asterisk)."),
    ],
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            help="Shipped configuration to render (default: the repository's asterisk_conf/).",
        ),
    ] = None,
    runtime_dir: Annotated[
        Path | None,
        typer.Option(
            "--runtime-dir",
            help="Keep Asterisk's spool, logs, database and socket under this directory "
            "instead of /var (an unprivileged Asterisk).",
        ),
    ] = None,
    sip_bind: Annotated[
        str,
        typer.Option(
            "--sip-bind", envvar="CALLCENTER_SIP_BIND", help="PJSIP UDP transport, host:port."
        ),
    ] = "0.0.0.0:5060",
    events_username: Annotated[
        str,
        typer.Option(
            "--ami-events-username",
            envvar="CALLCENTER_AMI_EVENTS_USERNAME",
            help="Read-only AMI user for event consumers.",
        ),
    ] = "callcenter-events",
    events_secret: Annotated[
        str,
        typer.Option(
            "--ami-events-secret",
            envvar="CALLCENTER_AMI_EVENTS_SECRET",
            show_default=False,
            help="Its secret (default: generated and printed once).",
        ),
    ] = "",
) -> None:
    """Write a ready Asterisk configuration from asterisk_conf/ and the platform's settings.

    Then: asterisk -C OUT/asterisk.conf. Unset AMI secrets are generated and printed once.
    """
    from callcenter.asterisk.conf_render import (
        DEFAULT_SOURCE_DIR,
        NOTICE_FILE,
        ConfRenderError,
        render_conf,
        values_from_settings,
    )

    settings = settings_or_exit()
    try:
        values, generated = values_from_settings(
            settings,
            events_username=events_username,
            events_secret=events_secret,
            sip_bind=sip_bind,
            runtime_dir=runtime_dir,
        )
        written = render_conf(values, out, source_dir=source or DEFAULT_SOURCE_DIR)
    except ConfRenderError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the configuration to {out}: {exc.strerror or exc}")
    typer.echo(f"rendered {len(written)} files into {out.resolve()}")
    typer.echo(f"start Asterisk with: asterisk -C {out.resolve() / 'asterisk.conf'}")
    for name, secret in generated.items():
        typer.echo(f"generated {name}={secret}")
    if generated:
        typer.echo("(shown once: put these in the platform's environment)")
    notice = out.resolve() / NOTICE_FILE
    if not notice.exists():
        print(
            f"callcenter: warning: {notice} is missing: a caller sent to line 1 while the IVR "
            "is down will not hear that the call is recorded. Make it with:\n"
            f'  callcenter say "Здравствуйте! Разговор записывается." --out {notice}',
            file=sys.stderr,
        )


def register(app: typer.Typer) -> None:
    asterisk = typer.Typer(help="Asterisk: configuration for the PBX.", no_args_is_help=True)
    asterisk.command("render")(render)
    app.add_typer(asterisk, name="asterisk")
