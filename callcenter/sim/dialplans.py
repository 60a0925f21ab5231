"""The dialplans the simulator ships.

`lab_dialplan` is the lab's extensions.conf, used when the transcripts were captured
(tests/fixtures/asterisk/lab-extensions.conf), so conformance tests replay the same
Newexten sequence. `default_dialplan` is what the demo and end-to-end tests run: the lab's
8-800 entry (AGI IVR, then Queue(${IVR_TARGET})), plus what the platform relies on:
- FastAGI down (AGISTATUS != SUCCESS): the caller still reaches queue line1;
- the IVR's IVR_PRIORITY becomes the queue priority (QUEUE_PRIO);
- a queue timeout overflows to the branch call centres' queue (branch-overflow), unless
  nobody is signed in there (JOINEMPTY): then the caller keeps waiting in their own queue;
- contexts the platform can Redirect/Originate into: `queues` (exten = queue name),
  `agents` (operators), `conf` (exten = conference room), `dialer` (recorded from the
  answer, as the shipped dialplan's sub-record does, then AMD and the AGI dialer),
  `supervisor` (`*1`/`*2`/`*3` + extension: listen, whisper, barge with ChanSpy).
"""

from __future__ import annotations

from callcenter.sim.dialplan import Dialplan, Extension, Step, parse_extensions
from callcenter.sim.parties import HUMAN_AMD, MACHINE_AMD

LAB_EXTENSIONS = """
[ivr]
exten => 88001000000,1,NoOp(inbound 8-800)
 same => n,Answer()
 same => n,Set(CALLCENTER_REC=/var/spool/asterisk/monitor/rec-${UNIQUEID}.wav)
 same => n,MixMonitor(${CALLCENTER_REC},b)
 same => n,AGI({agi}/ivr)
 same => n,NoOp(AGISTATUS=${AGISTATUS} IVR_TARGET=${IVR_TARGET})
 same => n,GotoIf($["${IVR_TARGET}" = ""]?done)
 same => n,Queue(${IVR_TARGET},t,,,60)
 same => n,NoOp(QUEUESTATUS=${QUEUESTATUS})
 same => n,VoiceMail(100@default,u)
 same => n(done),Hangup()
exten => 88002000000,1,NoOp(agi server down path)
 same => n,Answer()
 same => n,AGI({dead_agi}/ivr)
 same => n,NoOp(AGISTATUS=${AGISTATUS})
 same => n,Hangup()
[agents]
exten => 104,1,Goto(agents2,104,1)
exten => 101,1,NoOp(agent 101 answers)
 same => n,Answer()
 same => n,Wait(4)
 same => n,Hangup()
exten => 102,1,NoOp(agent 102 never answers)
 same => n,Wait(30)
 same => n,Hangup()
exten => 103,1,NoOp(agent 103 answers then blind-transfers caller via AMI)
 same => n,Answer()
 same => n,Wait(20)
 same => n,Hangup()
exten => 201,1,NoOp(line2 specialist answers)
 same => n,Answer()
 same => n,Wait(3)
 same => n,Hangup()
[callers]
exten => script1,1,NoOp(caller presses 1 then 2 and waits)
 same => n,Answer()
 same => n,Wait(2)
 same => n,SendDTMF(1)
 same => n,Wait(2)
 same => n,SendDTMF(2)
 same => n,Wait(40)
 same => n,Hangup()
exten => hangup_in_ivr,1,NoOp(caller hangs up during GET DATA)
 same => n,Answer()
 same => n,Wait(2.5)
 same => n,Hangup()
exten => abandon,1,NoOp(caller gives keys and abandons in queue)
 same => n,Answer()
 same => n,Wait(2)
 same => n,SendDTMF(1)
 same => n,Wait(2)
 same => n,SendDTMF(2)
 same => n,Wait(16)
 same => n,Hangup()
exten => silent,1,NoOp(caller without DTMF waits long)
 same => n,Answer()
 same => n,Wait(45)
 same => n,Hangup()
[outbound-sim]
exten => human,1,Answer()
 same => n,Wait(0.5)
 same => n,Playback(hello-world)
 same => n,Wait(8)
 same => n,Hangup()
exten => machine,1,Answer()
 same => n,Playback(vm-intro&vm-intro&vm-intro)
 same => n,Wait(5)
 same => n,Hangup()
exten => busy,1,Busy(5)
exten => noanswer,1,Ringing()
 same => n,Wait(60)
exten => congestion,1,Congestion(5)
[dialer]
exten => amd,1,NoOp(dialer leg answered)
 same => n,AMD()
 same => n,NoOp(AMDSTATUS=${AMDSTATUS} AMDCAUSE=${AMDCAUSE})
 same => n,AGI({agi}/dialer)
 same => n,Hangup()
[conf]
exten => 900,1,Answer()
 same => n,ConfBridge(900)
[moh-hold]
exten => hold,1,NoOp(caller on hold)
 same => n,MusicOnHold(default,6)
 same => n,Hangup()
[vm]
exten => leave,1,Answer()
 same => n,VoiceMail(100@default,u)
 same => n,Hangup()
[callers2]
exten => vmcaller,1,Answer()
 same => n,Wait(8)
 same => n,SendDTMF(#)
 same => n,Wait(2)
 same => n,Hangup()
exten => longwait,1,Answer()
 same => n,Wait(2)
 same => n,SendDTMF(1)
 same => n,Wait(2)
 same => n,SendDTMF(2)
 same => n,Wait(45)
 same => n,Hangup()
[agents2]
exten => 104,1,NoOp(agent 104 answers and talks long)
 same => n,Answer()
 same => n,Wait(25)
 same => n,Hangup()
"""

DEFAULT_EXTENSIONS = """
[ivr]
exten => {inbound},1,NoOp(inbound 8-800)
 same => n,Answer()
 same => n,Set(CALLCENTER_REC=/var/spool/asterisk/monitor/rec-${UNIQUEID}.wav)
 same => n,MixMonitor(${CALLCENTER_REC},b)
 same => n,AGI({agi}/ivr)
 same => n,NoOp(AGISTATUS=${AGISTATUS} IVR_TARGET=${IVR_TARGET})
 same => n,GotoIf($["${AGISTATUS}" = "SUCCESS"]?routed)
 same => n,Set(IVR_TARGET={fallback})
 same => n(routed),GotoIf($["${IVR_TARGET}" = ""]?done)
 same => n,Set(QUEUE_PRIO=${IVR_PRIORITY})
 same => n,Queue(${IVR_TARGET},t,,,{queue_timeout})
 same => n,NoOp(QUEUESTATUS=${QUEUESTATUS})
 same => n,GotoIf($["${QUEUESTATUS}" != "TIMEOUT"]?done)
 same => n,Queue({overflow},t,,,{overflow_timeout})
 same => n,GotoIf($["${QUEUESTATUS}" != "JOINEMPTY"]?done)
 same => n,Queue(${IVR_TARGET},t,,,{overflow_timeout})
 same => n(done),Hangup()
[dialer]
exten => amd,1,NoOp(dialer leg answered)
 same => n,MixMonitor(/var/spool/asterisk/monitor/${CALL_UUID}.wav)
 same => n,AMD()
 same => n,NoOp(AMDSTATUS=${AMDSTATUS} AMDCAUSE=${AMDCAUSE})
 same => n,Set(IVR_TARGET=)
 same => n,AGI({agi}/dialer)
 same => n,GotoIf($["${AGISTATUS}" != "SUCCESS"]?done)
 same => n,GotoIf($["${IVR_TARGET}" = ""]?done)
 same => n,Queue(${IVR_TARGET},t,,,{queue_timeout})
 same => n(done),Hangup()
[moh-hold]
exten => hold,1,NoOp(caller on hold)
 same => n,MusicOnHold(default,6)
 same => n,Hangup()
[supervisor-spy]
exten => s,1,Answer()
 same => n,ChanSpy(PJSIP/${CC_PEER}-,${CC_SPY})
 same => n,Hangup()
"""


def lab_dialplan(
    agi: str = "agi://127.0.0.1:4573", dead_agi: str = "agi://127.0.0.1:4999"
) -> Dialplan:
    """The lab dialplan; `agi` is the FastAGI base URL (no script), `dead_agi` one nobody
    listens on (extension 88002000000, transcript s7)."""
    plan = parse_extensions(LAB_EXTENSIONS.replace("{agi}", agi).replace("{dead_agi}", dead_agi))
    _set_amd(plan)
    return plan


def default_dialplan(
    agi: str,
    *,
    inbound_number: str = "88001000000",
    fallback_queue: str = "line1",
    overflow_queue: str = "branch-overflow",
    queue_timeout: int = 60,
    overflow_timeout: int = 300,
) -> Dialplan:
    text = (
        DEFAULT_EXTENSIONS.replace("{agi}", agi)
        .replace("{inbound}", inbound_number)
        .replace("{fallback}", fallback_queue)
        .replace("{overflow}", overflow_queue)
        .replace("{queue_timeout}", str(queue_timeout))
        .replace("{overflow_timeout}", str(overflow_timeout))
    )
    return parse_extensions(text)


def _set_amd(plan: Dialplan) -> None:
    for exten, verdict in (("human", HUMAN_AMD), ("machine", MACHINE_AMD)):
        ext = plan.find("outbound-sim", exten)
        if ext is not None:
            ext.amd = verdict


# the shipped dialplan's [supervisor] feature codes -> ChanSpy options
SPY_OPTIONS = {"*1": "qE", "*2": "qwE", "*3": "qBE"}


def supervisor_extension(exten: str) -> Extension | None:
    """`*1<ext>` / `*2<ext>` / `*3<ext>` of the shipped `[supervisor]` context."""
    options = SPY_OPTIONS.get(exten[:2])
    peer = exten[2:]
    if options is None or not peer.isdigit():
        return None
    return Extension(
        exten,
        [
            Step("Set", f"CC_PEER={peer}"),
            Step("Set", f"CC_SPY={options}"),
            Step("Goto", "supervisor-spy,s,1"),
        ],
    )
