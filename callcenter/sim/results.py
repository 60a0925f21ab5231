"""What a simulated call came to, and the summary of a scenario run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class CallOutcome(StrEnum):
    CLOSED_BY_IVR = "closed_by_ivr"  # the IVR ended the call (no queue)
    HUNG_UP_IN_IVR = "hung_up_in_ivr"  # the caller hung up before reaching a queue
    ANSWERED = "answered"  # an operator took it
    ABANDONED = "abandoned"  # the caller gave up waiting in a queue
    UNANSWERED = "unanswered"  # left a queue without an operator (timeout, transfer)
    FAILED = "failed"  # never got through (originate failed)


@dataclass
class CallResult:
    uniqueid: str
    linkedid: str
    call_uuid: str
    outcome: CallOutcome
    queue: str | None
    wait_seconds: float | None  # time in queue (simulated seconds)


@dataclass
class Summary:
    calls: int = 0
    closed_by_ivr: int = 0
    answered: int = 0
    abandoned: int = 0
    avg_wait: float = 0.0  # mean simulated seconds in queue, over calls that joined one
    hung_up_in_ivr: int = 0
    unanswered: int = 0
    failed: int = 0
    results: list[CallResult] = field(default_factory=list)

    @classmethod
    def of(cls, results: Sequence[CallResult]) -> Summary:
        waits = [r.wait_seconds for r in results if r.wait_seconds is not None]
        count = Counter(r.outcome for r in results)
        return cls(
            calls=len(results),
            closed_by_ivr=count.get(CallOutcome.CLOSED_BY_IVR, 0),
            answered=count.get(CallOutcome.ANSWERED, 0),
            abandoned=count.get(CallOutcome.ABANDONED, 0),
            hung_up_in_ivr=count.get(CallOutcome.HUNG_UP_IN_IVR, 0),
            unanswered=count.get(CallOutcome.UNANSWERED, 0),
            failed=count.get(CallOutcome.FAILED, 0),
            avg_wait=sum(waits) / len(waits) if waits else 0.0,
            results=list(results),
        )
