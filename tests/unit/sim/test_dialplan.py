"""The dialplan engine's text layer: extensions.conf parsing, ${} and $[] expansion."""

from __future__ import annotations

import pytest

from callcenter.sim.callerid import parse_callerid
from callcenter.sim.channels import Party
from callcenter.sim.dialplan import (
    DialplanError,
    evaluate,
    parse_extensions,
    substitute,
    variable_lookup,
)
from callcenter.sim.dialplans import default_dialplan, lab_dialplan


def test_extensions_conf_with_same_and_labels() -> None:
    plan = parse_extensions(
        """
        [general]
        static=yes
        [ivr]
        exten => 100,1,NoOp(hello, world) ; comment
         same => n,GotoIf($["${X}" = ""]?done)
         same => n(done),Hangup()
        """
    )
    ext = plan.find("ivr", "100")
    assert ext is not None
    assert [(s.app, s.data) for s in ext.steps] == [
        ("NoOp", "hello, world"),
        ("GotoIf", '$["${X}" = ""]?done'),
        ("Hangup", ""),
    ]
    assert ext.priority_of("done") == 3
    assert plan.exists("ivr", "100", 3)
    assert not plan.exists("ivr", "100", 4)


def test_bad_dialplan_lines_say_where() -> None:
    with pytest.raises(DialplanError, match="line 3"):
        parse_extensions("[x]\nexten => 1,1,NoOp()\n same => 5,NoOp()\n")


def test_substitution_and_expressions_as_in_the_transcripts() -> None:
    lookup = variable_lookup(
        {"IVR_TARGET": "line1", "AGISTATUS": "SUCCESS"},
        {"UNIQUEID": "1795432843.8", "CALLERID(num)": "84951234567"},
    )
    assert substitute('$["${IVR_TARGET}" = ""]?done', lookup) == "0?done"
    assert substitute("AGISTATUS=${AGISTATUS} IVR_TARGET=${IVR_TARGET}", lookup) == (
        "AGISTATUS=SUCCESS IVR_TARGET=line1"
    )
    assert substitute("rec-${UNIQUEID}.wav", lookup) == "rec-1795432843.8.wav"
    assert substitute("${CALLERID(num)}/${NOSUCH}", lookup) == "84951234567/"
    assert substitute("${IF($[${LEN(${IVR_TARGET})} > 0]?yes:no)}", lookup) == "yes"


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ('"line1" = ""', "0"),
        ('"" = ""', "1"),
        ("3 > 10", "0"),
        ("abc < abd", "1"),
        ('"SUCCESS" != "SUCCESS" | 1 = 1', "1"),
        ("1 & 0", "0"),
        ("(2 = 2) & (3 = 3)", "1"),
    ],
)
def test_expressions(expression: str, value: str) -> None:
    assert evaluate(expression) == value


def test_lab_and_default_dialplans_route_the_8800_number_to_the_fastagi_ivr() -> None:
    lab = lab_dialplan("agi://127.0.0.1:4573")
    ext = lab.find("ivr", "88001000000")
    assert ext is not None
    assert ext.steps[4].data == "agi://127.0.0.1:4573/ivr"
    plan = default_dialplan("agi://10.0.0.5:4573", inbound_number="88005550000")
    ivr = plan.find("ivr", "88005550000")
    assert ivr is not None
    apps = [step.app for step in ivr.steps]
    assert apps.index("AGI") < apps.index("Queue")
    assert "Set" in apps  # the line1 fallback when FastAGI is down


@pytest.mark.parametrize(
    ("text", "party"),
    [
        ('"Ivanov Ivan" <+79161234567>', Party("+79161234567", "Ivanov Ivan")),
        ("Energo <88001000000>", Party("88001000000", "Energo")),
        ("+7 (916) 123-45-67", Party("+79161234567", None)),
        ('"Sidorov"', Party(None, "Sidorov")),
        ("", Party()),
    ],
)
def test_caller_id_strings(text: str, party: Party) -> None:
    assert parse_callerid(text) == party
