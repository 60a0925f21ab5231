"""Bridges: the mixing rooms channels talk in (two-party calls, conferences).

`Bridge` itself is defined next to `Channel` (each refers to the other); this module holds
what describes a bridge in AMI events.
"""

from __future__ import annotations

from callcenter.sim.channels import Bridge

__all__ = ["Bridge", "bridge_fields"]


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
