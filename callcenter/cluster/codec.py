"""Dataclasses to JSON-ready values and back for what crosses between roles."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from callcenter.domain.agents import AgentStatus, CallRef, OperatorState
from callcenter.domain.calls import CallRecord, Direction, Disposition, OperatorLeg
from callcenter.workstation.screen_pop import Ring


def jsonable(value: Any) -> Any:
    """Dataclasses, datetimes, UUIDs and enums as plain JSON values (recursively)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def _time(raw: object) -> datetime | None:
    return datetime.fromisoformat(raw) if isinstance(raw, str) and raw else None


def status_to_json(status: AgentStatus) -> dict[str, Any]:
    data: dict[str, Any] = jsonable(status)
    return data


def status_from_json(data: dict[str, Any]) -> AgentStatus:
    call = data.get("call")
    return AgentStatus(
        state=OperatorState(data["state"]),
        since=_time(data.get("since")),
        pause_reason=data.get("pause_reason"),
        call=CallRef(call["caller_uniqueid"], call["queue"], call.get("linkedid"))
        if isinstance(call, dict)
        else None,
        pending_pause=data.get("pending_pause"),
        wrap_up_until=_time(data.get("wrap_up_until")),
        missed_rings=int(data.get("missed_rings") or 0),
    )


def operator_view_status(view: dict[str, Any]) -> AgentStatus:
    """An operator's status as far as a published live view tells it."""
    queue = view.get("call_queue")
    return AgentStatus(
        state=OperatorState(view["state"]),
        since=_time(view.get("since")),
        pause_reason=view.get("pause_reason"),
        call=CallRef("", queue) if queue else None,
        pending_pause=view.get("pending_pause"),
    )


# the fields of a call in progress a telephony node publishes (the live calls list, screen-pop,
# call control's "is it yours" check); the rest of a record is the journal's business
def live_call_to_json(record: CallRecord) -> dict[str, Any]:
    return {
        "id": str(record.id),
        "linkedid": record.linkedid,
        "direction": record.direction.value,
        "caller_number": record.caller_number,
        "dialled_number": record.dialled_number,
        "customer_id": record.customer_id,
        "started_at": record.started_at.isoformat(),
        "answered_at": record.answered_at.isoformat() if record.answered_at else None,
        "ivr_path": list(record.ivr_path[:30]),
        "queue_name": record.queue_name,
        "operator_interface": record.operator_interface,
        "disposition": record.disposition.value,
        "priority": record.priority,
        "legs": [
            {
                "uniqueid": leg.uniqueid,
                "channel": leg.channel,
                "interface": leg.interface,
                "rang_at": leg.rang_at.isoformat(),
                "answered_at": leg.answered_at.isoformat() if leg.answered_at else None,
                "ended_at": leg.ended_at.isoformat() if leg.ended_at else None,
            }
            for leg in record.operator_legs[-10:]
        ],
    }


def live_call_from_json(data: dict[str, Any]) -> CallRecord:
    started = _time(data.get("started_at")) or datetime.fromtimestamp(0, UTC)
    return CallRecord(
        id=uuid.UUID(str(data["id"])),
        linkedid=str(data["linkedid"]),
        direction=Direction(data["direction"]),
        caller_number=str(data.get("caller_number") or ""),
        caller_name=None,
        dialled_number=data.get("dialled_number"),
        customer_id=data.get("customer_id"),
        started_at=started,
        answered_at=_time(data.get("answered_at")),
        ended_at=None,
        ivr_path=tuple(str(step) for step in data.get("ivr_path") or ()),
        ivr_seconds=None,
        ivr_closed=False,
        queue_name=data.get("queue_name"),
        operator_interface=data.get("operator_interface"),
        operator_name=None,
        wait_seconds=None,
        talk_seconds=None,
        disposition=Disposition(data.get("disposition") or Disposition.IN_PROGRESS.value),
        hangup_cause=None,
        hangup_cause_text=None,
        transfer_count=0,
        transfers=(),
        is_queued_callback=False,
        priority=int(data.get("priority") or 0),
        originate_action_id=None,
        originate_reason=None,
        amd_status=None,
        amd_cause=None,
        ring_no_answer_count=0,
        recording_file=None,
        recording_notice_version=None,
        partial=False,
        operator_legs=tuple(
            OperatorLeg(
                uniqueid=str(leg["uniqueid"]),
                channel=str(leg["channel"]),
                interface=str(leg.get("interface") or ""),
                rang_at=_time(leg.get("rang_at")) or started,
                answered_at=_time(leg.get("answered_at")),
                ended_at=_time(leg.get("ended_at")),
            )
            for leg in data.get("legs") or ()
        ),
    )


# a screen-pop crosses from a telephony node to the API nodes in one NOTIFY (< 8000 bytes)
RING_PAYLOAD_LIMIT = 7000


def ring_to_payload(ring: Ring, interface: str | None) -> str:
    data = {
        "o": ring.operator_id if interface is None else None,
        "i": interface,
        "k": ring.key,
        "l": ring.linkedid,
        "n": ring.caller_number,
        "q": ring.queue,
        "p": list(ring.ivr_path[:30]),
        "c": ring.customer_id,
        "s": ring.source,
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > RING_PAYLOAD_LIMIT:  # a pathological IVR path: pop without it
        data["p"] = []
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))[:RING_PAYLOAD_LIMIT]
    return text


def ring_from_payload(payload: str) -> tuple[Ring, str | None] | None:
    """(the ring, the interface it is for, or None when it is for `ring.operator_id`)."""
    try:
        data = json.loads(payload)
        interface = data.get("i")
        ring = Ring(
            operator_id=int(data.get("o") or 0),
            key=str(data["k"]),
            linkedid=data.get("l"),
            caller_number=data.get("n"),
            queue=data.get("q"),
            ivr_path=tuple(str(step) for step in data.get("p") or ()),
            customer_id=data.get("c"),
            source=str(data.get("s") or "acd"),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return ring, str(interface) if interface else None
