"""`callcenter simulate SCENARIO`: play Asterisk for a running platform and summarise."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from callcenter.cli.common import fail, settings_or_exit, setup_logging
from callcenter.config import Settings

if TYPE_CHECKING:
    from callcenter.sim.scenarios import Scenario
    from callcenter.sim.simulator import Summary


def simulate(
    scenario: Annotated[
        str, typer.Argument(help="Bundled name (demo, smoke, ...) or a YAML file.")
    ],
    duration: Annotated[
        float | None, typer.Option(help="Simulated seconds of traffic (default: the scenario's).")
    ] = None,
    time_scale: Annotated[
        float, typer.Option(help="Real seconds per simulated second (0.1 = ten times faster).")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed, for repeatable traffic.")] = 0,
) -> None:
    """Run SCENARIO against a running platform: the simulator listens for the platform's AMI
    client on CALLCENTER_AMI_HOST:CALLCENTER_AMI_PORT (start `callcenter serve` with those set
    to this machine) and sends its callers to the platform's FastAGI server."""
    from callcenter.sim.scenarios import ScenarioError, load_scenario

    settings = settings_or_exit()
    setup_logging("WARNING")
    try:
        loaded = load_scenario(scenario)
    except (ScenarioError, OSError) as exc:
        fail(f"scenario {scenario!r}: {exc}")
    if time_scale <= 0:
        fail("--time-scale must be positive")
    summary = asyncio.run(_run(settings, loaded, duration, time_scale, seed))
    typer.echo(f"calls:          {summary.calls}")
    typer.echo(f"closed by IVR:  {summary.closed_by_ivr}")
    typer.echo(f"answered:       {summary.answered}")
    typer.echo(f"abandoned:      {summary.abandoned}")
    typer.echo(f"hung up in IVR: {summary.hung_up_in_ivr}")
    typer.echo(f"average wait:   {summary.avg_wait:.1f} s")


async def _run(
    settings: Settings, scenario: Scenario, duration: float | None, time_scale: float, seed: int
) -> Summary:
    from callcenter.sim.simulator import Simulator

    host = settings.ami_host or "127.0.0.1"
    async with Simulator(
        ami_host=host,
        ami_port=settings.ami_port,
        agi_host=settings.agi_host,
        agi_port=settings.agi_port,
        recordings_dir=settings.recordings_dir,
        time_scale=time_scale,
        seed=seed,
        ami_users={settings.ami_username: settings.ami_secret.get_secret_value()},
        inbound_number=settings.inbound_number,
    ) as sim:
        typer.echo(
            f"simulator AMI on {host}:{sim.ami_port}; callers go to FastAGI on "
            f"{settings.agi_host}:{settings.agi_port}"
        )
        return await sim.run_scenario(scenario, duration)


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
