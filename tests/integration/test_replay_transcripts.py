"""Replay the real Asterisk 22 transcripts: decoder -> EventParser -> CallTracker -> records.

`received_at` is a fixed base plus each frame's transcript offset, so seconds mean what they
meant on the wire; where Asterisk reported its own figure (AgentComplete TalkTime, the
queue_log's ABANDON hold time) the record is checked against it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callcenter.domain.calls import (
    CallRecord,
    CallTracker,
    Direction,
    Disposition,
    call_id_for_linkedid,
)
from callcenter.domain.transfers import TransferKind
from callcenter.pbx.events import EventParser
from callcenter.pbx.frames import AmiFrame
from tests.support.transcripts import timed_ami_frames

BASE = datetime(2026, 11, 23, 11, 0, 0, tzinfo=UTC)
ALL_TRANSCRIPTS = [f"s{n}" for n in range(1, 16)]


def at(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def transcript(transcripts_dir: Path, scenario: str) -> Path:
    (path,) = transcripts_dir.glob(f"ami-{scenario}-*.log")
    return path


class Replay:
    """What the service will do: parse, key, apply, keep the latest record per call."""

    def __init__(self) -> None:
        self.parser = EventParser(session="replay")
        self.tracker = CallTracker(inbound_numbers={"88001000000"}, inbound_contexts={"ivr"})
        self.records: dict[str, CallRecord] = {}
        self.keys: list[str] = []
        self.ended: list[str] = []

    def feed(self, frames: Iterable[tuple[float, AmiFrame]], base: datetime = BASE) -> None:
        for seconds, frame in frames:
            parsed = self.parser.parse(frame, base + timedelta(seconds=seconds))
            if parsed is None:
                continue
            self.keys.append(parsed.key)
            update = self.tracker.apply(parsed.event, parsed.key)
            if update is not None:
                self.records[update.record.linkedid] = update.record
                if update.ended_now:
                    self.ended.append(update.record.linkedid)

    def only(self) -> CallRecord:
        (record,) = self.records.values()
        return record

    def by_action(self, action_id: str) -> CallRecord:
        (record,) = [r for r in self.records.values() if r.originate_action_id == action_id]
        return record


def replay(transcripts_dir: Path, scenario: str) -> Replay:
    run = Replay()
    run.feed(timed_ami_frames(transcript(transcripts_dir, scenario)))
    return run


def reported(frames: list[tuple[float, AmiFrame]], event: str, field: str) -> list[str]:
    """Values Asterisk itself reported in the transcript, to check our arithmetic against."""
    return [f[field] for _, f in frames if f.event == event and field in f]


@pytest.mark.parametrize("scenario", ALL_TRANSCRIPTS)
def test_every_transcript_parses_cleanly(transcripts_dir: Path, scenario: str) -> None:
    run = replay(transcripts_dir, scenario)

    stats = run.parser.stats
    assert stats.malformed == {}
    assert stats.unknown == {}
    assert stats.errors == 0
    assert stats.events > 0
    # genuinely different events never share a key, even byte-identical ones (s2, s15)
    assert len(set(run.keys)) == len(run.keys)
    for record in run.records.values():
        assert record == run.tracker.get(record.linkedid)
        if record.ended_at is not None:
            assert record.started_at <= record.ended_at
            assert record.disposition is not Disposition.IN_PROGRESS


def test_s1_answered_by_operator_101_after_keys_1_2(transcripts_dir: Path) -> None:
    path = transcript(transcripts_dir, "s1")
    run = Replay()
    run.feed(timed_ami_frames(path))

    call = run.only()
    assert call.linkedid == "1795432716.0"
    assert call.id == call_id_for_linkedid("1795432716.0")
    assert call.direction is Direction.INBOUND
    assert (call.caller_number, call.caller_name) == ("+79161234567", "Ivanov Ivan")
    assert call.dialled_number == "+78001000000"  # stored in E.164
    assert call.ivr_path == ("1", "2")
    assert call.queue_name == "line1"
    assert call.operator_interface == "Local/101@agents/n"
    assert call.operator_name == "Operator 101"
    assert call.disposition is Disposition.ANSWERED
    assert call.started_at == at(1.504)
    assert call.answered_at == at(13.420)
    assert call.ended_at == at(16.440)
    assert call.ivr_seconds == pytest.approx(11.9, abs=0.05)  # 8-800 entry -> queue join
    assert call.wait_seconds is not None
    assert call.wait_seconds < 0.1  # operator 101 was free
    (talk_time,) = reported(timed_ami_frames(path), "AgentComplete", "TalkTime")
    assert call.talk_seconds == pytest.approx(float(talk_time), abs=0.5)
    assert call.hangup_cause == 16
    assert call.transfer_count == 0
    assert run.ended == [call.linkedid]


def test_s2_abandoned_in_line1(transcripts_dir: Path) -> None:
    call = replay(transcripts_dir, "s2").only()

    assert call.disposition is Disposition.ABANDONED
    assert call.queue_name == "line1"
    assert call.ivr_path == ("1", "2")
    assert call.operator_interface is None
    assert call.answered_at is None
    assert call.talk_seconds is None
    # queue_log: ABANDON|1|1|9 (position, original position, seconds waited)
    assert call.wait_seconds == pytest.approx(9.0, abs=0.05)


def test_s3_hung_up_in_ivr(transcripts_dir: Path) -> None:
    call = replay(transcripts_dir, "s3").only()

    assert call.disposition is Disposition.HUNG_UP_IN_IVR
    assert call.direction is Direction.INBOUND
    assert call.caller_number == "+74951234567"
    assert call.ivr_path == ()
    assert call.queue_name is None
    assert call.ivr_seconds == pytest.approx(2.55, abs=0.05)


def test_s5_redirect_by_ami_counts_as_transfer(transcripts_dir: Path) -> None:
    path = transcript(transcripts_dir, "s5")
    run = Replay()
    run.feed(timed_ami_frames(path))

    call = run.only()
    # the Originate's ChannelId became Uniqueid and Linkedid: it is the call's id
    assert call.id == uuid.UUID("11111111-2222-3333-4444-555555555555")
    assert call.disposition is Disposition.ANSWERED
    assert call.operator_interface == "Local/103@agents/n"
    assert call.transfer_count == 1
    (transfer,) = call.transfers
    assert transfer.kind is TransferKind.REDIRECT
    assert transfer.to_target == "201@agents"
    assert transfer.from_operator == "Local/103@agents/n"
    assert transfer.at == at(20.015)
    (talk_time,) = reported(timed_ami_frames(path), "AgentComplete", "TalkTime")
    assert call.talk_seconds == pytest.approx(float(talk_time), abs=0.5)


@pytest.mark.parametrize(
    ("action_id", "reason", "disposition", "cause"),
    [
        ("ob-human", 4, Disposition.ANSWERED, 0),
        ("ob-machine", 4, Disposition.ANSWERED, 0),
        ("ob-busy", 5, Disposition.FAILED, 17),
        ("ob-noanswer", 3, Disposition.FAILED, 19),
        ("ob-congestion", 8, Disposition.FAILED, 34),
        ("ob-badchan", 0, Disposition.FAILED, 0),
    ],
)
def test_s6_originate_outcome(
    transcripts_dir: Path, action_id: str, reason: int, disposition: Disposition, cause: int
) -> None:
    run = replay(transcripts_dir, "s6")

    call = run.by_action(action_id)
    assert call.direction is Direction.OUTBOUND
    assert call.originate_reason == reason
    assert call.disposition is disposition
    assert call.hangup_cause == cause
    assert call.ended_at is not None
    if reason == 4:
        assert call.answered_at is not None
    else:
        assert call.answered_at is None
        assert call.talk_seconds is None


def test_s6_six_separate_calls_with_amd_results(transcripts_dir: Path) -> None:
    run = replay(transcripts_dir, "s6")

    assert len(run.records) == 6
    human = run.by_action("ob-human")
    assert (human.amd_status, human.amd_cause) == ("HUMAN", "HUMAN-800-800")
    assert human.dialled_number == "human"
    machine = run.by_action("ob-machine")
    assert (machine.amd_status, machine.amd_cause) == ("MACHINE", "LONGGREETING-1500-1500")
    busy = run.by_action("ob-busy")
    assert busy.amd_status is None
    assert busy.dialled_number == "busy"


def test_s7_agi_server_down_is_a_failed_call(transcripts_dir: Path) -> None:
    call = replay(transcripts_dir, "s7").only()

    assert call.direction is Direction.INBOUND
    assert call.dialled_number == "+78002000000"
    assert call.disposition is Disposition.FAILED


def test_s9_caller_without_dtmf_still_reaches_the_operator(transcripts_dir: Path) -> None:
    call = replay(transcripts_dir, "s9").only()

    assert call.ivr_path == ()
    assert call.disposition is Disposition.ANSWERED
    assert call.queue_name == "line1"
    assert call.operator_interface == "Local/101@agents/n"
    assert call.ivr_seconds == pytest.approx(17.1, abs=0.05)  # the IVR's timeouts, then line1
    assert call.talk_seconds == pytest.approx(4.0, abs=0.05)


def test_s10_blind_transfer_counts_as_transfer(transcripts_dir: Path) -> None:
    path = transcript(transcripts_dir, "s10")
    run = Replay()
    run.feed(timed_ami_frames(path))

    call = run.only()
    assert call.id == uuid.UUID("aaaaaaaa-0000-0000-0000-000000000001")
    assert call.disposition is Disposition.ANSWERED
    assert call.transfer_count == 1
    (transfer,) = call.transfers
    assert transfer.kind is TransferKind.BLIND
    assert transfer.to_target == "201@agents"
    assert transfer.from_operator == "Local/103@agents/n"
    # queue_log: BLINDTRANSFER|201|agents|0|6 -> 6 s with the operator
    (talk_time,) = reported(timed_ami_frames(path), "AgentComplete", "TalkTime")
    assert call.talk_seconds == pytest.approx(float(talk_time), abs=0.5)
    assert call.recording_file is not None
    assert call.recording_file.endswith("rec-aaaaaaaa-0000-0000-0000-000000000001.wav")


def test_s13_voicemail_disposition(transcripts_dir: Path) -> None:
    run = replay(transcripts_dir, "s13")

    call = run.records["1795433754.52"]
    assert call.disposition is Disposition.VOICEMAIL
    assert call.caller_number == "+79161110000"
    # the '#' that ends the message is not an IVR choice
    assert call.ivr_path == ()


def test_s14_ring_no_answer_then_caller_gives_up(transcripts_dir: Path) -> None:
    run = replay(transcripts_dir, "s14")

    # The capture stops at 40 s while the caller is still waiting (the queue_log shows the
    # ABANDON 50 s after ENTERQUEUE, after the capture ended).
    call = run.records["1795433773.54"]
    assert call.is_open
    assert call.disposition is Disposition.IN_PROGRESS
    assert call.queue_name == "line3"
    assert call.ring_no_answer_count == 6  # queue_log: six RINGNOANSWER

    # The end as Asterisk reports a caller giving up (s2's own frames, re-addressed to the
    # s14 caller), 50 s after the join.
    run.feed(abandon_tail(transcripts_dir, joined_at=1.006, hold=50))

    call = run.records["1795433773.54"]
    assert call.disposition is Disposition.ABANDONED
    assert call.wait_seconds == pytest.approx(50.0, abs=0.05)
    assert call.operator_interface is None
    assert call.answered_at is None
    assert call.ring_no_answer_count == 6


def abandon_tail(
    transcripts_dir: Path, *, joined_at: float, hold: int
) -> list[tuple[float, AmiFrame]]:
    """s2's caller-side frames from its hangup to QueueCallerLeave, moved onto s14's caller."""
    names = {
        "Local/abandon@callers-00000002;1": "Local/longwait@callers2-0000001b;1",
        "Local/abandon@callers-00000002;2": "Local/longwait@callers2-0000001b;2",
        "1795432807.4": "1795433773.54",
        "1795432807.5": "1795433773.55",
        "line1": "line3",
        "+79031112233": "+79267770000",
        "9": str(hold),
    }
    wanted = {"Hangup", "QueueCallerAbandon", "QueueCallerLeave"}
    caller = {"1795432807.4", "1795432807.5"}
    tail = [
        frame
        for _, frame in timed_ami_frames(transcript(transcripts_dir, "s2"))
        if frame.event in wanted and frame.get("Uniqueid") in caller
    ]
    assert [f.event for f in tail] == ["Hangup", "QueueCallerAbandon", "QueueCallerLeave", "Hangup"]
    end = joined_at + hold
    return [(end, AmiFrame(tuple((k, names.get(v, v)) for k, v in f.pairs))) for f in tail]


def test_s15_operator_feature_code_is_not_an_ivr_choice(transcripts_dir: Path) -> None:
    call = replay(transcripts_dir, "s15").only()

    # the operator's leg sent *2 then 201 (Atxfer); the caller pressed 1 and 2 in the IVR
    assert call.ivr_path == ("1", "2")
    assert call.disposition is Disposition.ANSWERED
    # the attended transfer was only started (no AttendedTransfer event): not a transfer
    assert call.transfer_count == 0
    assert call.talk_seconds == pytest.approx(25.0, abs=0.05)


def test_s8_conference_and_s12_supervisor_calls_are_answered(transcripts_dir: Path) -> None:
    conference = replay(transcripts_dir, "s8")
    assert {r.disposition for r in conference.records.values()} == {Disposition.ANSWERED}
    assert len(conference.records) == 2

    spying = replay(transcripts_dir, "s12")
    supervisor = spying.by_action("spy-1")
    assert supervisor.disposition is Disposition.ANSWERED
    spied = spying.records["1795433718.46"]
    assert spied.is_open  # the operator talks on past the end of the capture


def test_call_spanning_two_ami_sessions_completes(transcripts_dir: Path) -> None:
    """s12 ends while its queue call goes on; s13 (the next login) carries its end.

    Each capture is placed at the wall-clock time of its own login (SuccessfulAuth EventTV).
    """
    run = Replay()
    for scenario in ("s12", "s13"):
        frames = timed_ami_frames(transcript(transcripts_dir, scenario))
        (login,) = [f["EventTV"] for _, f in frames if f.event == "SuccessfulAuth"]
        run.feed(frames, base=datetime.fromisoformat(login))

    call = run.records["1795433718.46"]
    assert call.disposition is Disposition.ANSWERED
    assert not call.partial
    assert call.ivr_path == ("1", "2")
    assert call.operator_interface == "Local/104@agents/n"
    # queue_log: COMPLETEAGENT|0|25 for this call
    assert call.talk_seconds == pytest.approx(25.0, abs=0.1)


def test_tail_of_a_call_seen_only_from_the_middle(transcripts_dir: Path) -> None:
    # s11's capture starts during an operator conversation of an earlier, uncaptured call
    call = replay(transcripts_dir, "s11").records["1795433840.68"]

    assert call.partial
    assert call.disposition is Disposition.ANSWERED
    assert call.operator_interface == "Local/104@agents/n"
    # reconstructed from AgentComplete's own TalkTime (queue_log: COMPLETEAGENT|0|25)
    assert call.talk_seconds == pytest.approx(25.0, abs=0.05)
    assert call.ivr_seconds is None  # its IVR phase was never seen


def test_replaying_a_transcript_twice_changes_nothing(transcripts_dir: Path) -> None:
    path = transcript(transcripts_dir, "s1")
    run = Replay()
    run.feed(timed_ami_frames(path))
    first = dict(run.records)
    first_keys = list(run.keys)

    # the same stream again (e.g. re-fed after a restart): fresh keyer, same keys
    run.parser = EventParser(session="replay")
    updates_before = len(run.ended)
    run.feed(timed_ami_frames(path))

    assert run.keys[len(first_keys) :] == first_keys
    assert run.records == first
    assert len(run.ended) == updates_before
