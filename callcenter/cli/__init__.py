"""The `callcenter` command line. Each command group lives in its own module here."""

from __future__ import annotations

import typer

from callcenter.cli import asterisk, core, flows, sim, speech

app = typer.Typer(
    name="callcenter",
    help="Contact-centre platform on Asterisk: serve, migrate, seed demo data, tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
core.register(app)
speech.register(app)
asterisk.register(app)
flows.register(app)
sim.register(app)


def main() -> None:
    app()
