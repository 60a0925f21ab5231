"""The outbound dialer: places campaign calls through AMI Originate and serves them over AGI.

One package-level entry point for the rest of the platform; the parts live in:

- `dialer_service`: `DialerService` (one per instance: finds due campaigns, locks them, routes
  OriginateResponse events and FastAGI sessions to the campaign whose call it is) and
  `dialer_agi_handler`;
- `campaign_dialer`: `CampaignDialer` (one campaign: pacing glue, due contacts, Originate,
  the fate of each call, attempts stored with their result);
- `dialer_script`: the "dialer" FastAGI script (message, keys, survey, hand-over or apology);
- `operator_pool`: the operators as the pacing sees them (fed from the ACD);
- `dialer_ports`: what the dialer needs of the PBX, speech, the ACD and the other instances;
- `dialer_types`: settings, channel variables, live calls and live figures.

Campaign locks (PostgreSQL advisory locks, SQLite leases) are adapters in
`callcenter.db.campaign_locks`; pacing is pure logic in `callcenter.domain.pacing`.
"""

from __future__ import annotations

from callcenter.outbound.campaign_dialer import CampaignDialer, DialerHost
from callcenter.outbound.dialer_ports import (
    CampaignLocks,
    DialerChannel,
    OperatorPool,
    Originator,
    PromptSource,
)
from callcenter.outbound.dialer_script import (
    TEXT_AFTER_MESSAGE,
    TEXT_APOLOGY,
    TEXT_GOODBYE,
    TEXT_SURVEY_AGAIN,
    TEXT_SURVEY_INTRO,
    TEXT_SURVEY_THANKS,
    TEXT_TO_OPERATOR,
    CallScript,
    SurveyQuestion,
)
from callcenter.outbound.dialer_service import DialerService, dialer_agi_handler
from callcenter.outbound.dialer_types import (
    VAR_ATTEMPT,
    VAR_CAMPAIGN,
    VAR_CLOSED,
    VAR_CONTACT,
    VAR_TARGET,
    CallStage,
    DialerConfig,
    LiveCall,
    LiveStats,
    channel_for,
)
from callcenter.outbound.operator_pool import InMemoryOperatorPool

__all__ = [
    "TEXT_AFTER_MESSAGE",
    "TEXT_APOLOGY",
    "TEXT_GOODBYE",
    "TEXT_SURVEY_AGAIN",
    "TEXT_SURVEY_INTRO",
    "TEXT_SURVEY_THANKS",
    "TEXT_TO_OPERATOR",
    "VAR_ATTEMPT",
    "VAR_CAMPAIGN",
    "VAR_CLOSED",
    "VAR_CONTACT",
    "VAR_TARGET",
    "CallScript",
    "CallStage",
    "CampaignDialer",
    "CampaignLocks",
    "DialerChannel",
    "DialerConfig",
    "DialerHost",
    "DialerService",
    "InMemoryOperatorPool",
    "LiveCall",
    "LiveStats",
    "OperatorPool",
    "Originator",
    "PromptSource",
    "SurveyQuestion",
    "channel_for",
    "dialer_agi_handler",
]
