"""Which status changes a campaign allows, and who makes them.

    draft --start--> scheduled --(start time reached, a dialer took it)--> running
    running <--pause/resume--> paused
    scheduled | running | paused --cancel--> cancelled
    running --(list done or end time passed)--> finished

A supervisor starts, pauses, resumes and cancels; the dialer moves scheduled to running and
running to finished. Finished and cancelled are final.
"""

from __future__ import annotations

from enum import StrEnum

from callcenter.domain.campaigns import CampaignStatus


class CampaignAction(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    # by the dialer
    RUN = "run"
    FINISH = "finish"


class TransitionError(ValueError):
    """Not allowed in the campaign's current status (the message is Russian)."""


_TRANSITIONS: dict[tuple[CampaignStatus, CampaignAction], CampaignStatus] = {
    (CampaignStatus.DRAFT, CampaignAction.START): CampaignStatus.SCHEDULED,
    (CampaignStatus.SCHEDULED, CampaignAction.RUN): CampaignStatus.RUNNING,
    (CampaignStatus.RUNNING, CampaignAction.PAUSE): CampaignStatus.PAUSED,
    (CampaignStatus.SCHEDULED, CampaignAction.PAUSE): CampaignStatus.PAUSED,
    (CampaignStatus.PAUSED, CampaignAction.RESUME): CampaignStatus.SCHEDULED,
    (CampaignStatus.SCHEDULED, CampaignAction.CANCEL): CampaignStatus.CANCELLED,
    (CampaignStatus.RUNNING, CampaignAction.CANCEL): CampaignStatus.CANCELLED,
    (CampaignStatus.PAUSED, CampaignAction.CANCEL): CampaignStatus.CANCELLED,
    (CampaignStatus.DRAFT, CampaignAction.CANCEL): CampaignStatus.CANCELLED,
    (CampaignStatus.RUNNING, CampaignAction.FINISH): CampaignStatus.FINISHED,
    (CampaignStatus.SCHEDULED, CampaignAction.FINISH): CampaignStatus.FINISHED,
}

_STATUS_RU = {
    CampaignStatus.DRAFT: "черновик",
    CampaignStatus.SCHEDULED: "запланирована",
    CampaignStatus.RUNNING: "идёт",
    CampaignStatus.PAUSED: "приостановлена",
    CampaignStatus.FINISHED: "завершена",
    CampaignStatus.CANCELLED: "отменена",
}

# the dialer works these: scheduled ones it picks up when their time comes
ACTIVE_STATUSES = frozenset({CampaignStatus.SCHEDULED, CampaignStatus.RUNNING})
# settings may change only before the campaign is started or while it is paused
EDITABLE_STATUSES = frozenset({CampaignStatus.DRAFT, CampaignStatus.PAUSED})


def next_status(current: CampaignStatus, action: CampaignAction) -> CampaignStatus:
    try:
        return _TRANSITIONS[(current, action)]
    except KeyError:
        raise TransitionError(
            f"кампания {_STATUS_RU[current]}: действие «{action.value}» невозможно"
        ) from None


def status_ru(status: CampaignStatus) -> str:
    return _STATUS_RU[status]
