"""Bridges: the mixing rooms channels talk in (two-party calls, conferences)."""

from __future__ import annotations

from dataclasses import dataclass, field

from callcenter.sim.channels import UNKNOWN, Channel


@dataclass(eq=False)
class Bridge:
    uniqueid: str
    type: str = "basic"
    technology: str = "simple_bridge"
    creator: str = UNKNOWN
    name: str = UNKNOWN
    channels: list[Channel] = field(default_factory=list)
    created: float = 0.0
    destroyed: bool = False
    phantoms: int = 0  # members without channels of their own (ConfBridge's announcer)


def bridge_fields(bridge: Bridge, count: int | None = None) -> list[tuple[str, str]]:
    """The bridge block of Bridge*/Confbridge* events; `count` overrides BridgeNumChannels."""
    return [
        ("BridgeUniqueid", bridge.uniqueid),
        ("BridgeType", bridge.type),
        ("BridgeTechnology", bridge.technology),
        ("BridgeCreator", bridge.creator),
        ("BridgeName", bridge.name),
        (
            "BridgeNumChannels",
            str(len(bridge.channels) + bridge.phantoms if count is None else count),
        ),
        ("BridgeVideoSourceMode", "none"),
    ]
