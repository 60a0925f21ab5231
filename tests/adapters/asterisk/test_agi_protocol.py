"""AGI wire format: reply parsing, argument quoting, environment parsing, caller-id hygiene."""

from __future__ import annotations

import pytest

from callcenter.asterisk.agi_environment import (
    parse_environment,
    sanitise_callerid,
    sanitise_callerid_name,
)
from callcenter.asterisk.agi_protocol import (
    MAX_COMMAND_BYTES,
    AgiReply,
    arg,
    command_line,
    escape_digits,
    parse_reply,
)
from callcenter.pbx.agi_errors import AgiProtocolError
from tests.support.agi_peer import encode_environment, environment, parse_agi_args


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("200 result=0", AgiReply(200, "result=0", "0")),
        ("200 result=50", AgiReply(200, "result=50", "50")),
        ("200 result=0 endpos=11360", AgiReply(200, "result=0 endpos=11360", "0", None, 11360)),
        ("200 result= (timeout)", AgiReply(200, "result= (timeout)", "", "timeout")),
        ("200 result=12 (timeout)", AgiReply(200, "result=12 (timeout)", "12", "timeout")),
        (
            "200 result=1 (timeout) endpos=0",
            AgiReply(200, "result=1 (timeout) endpos=0", "1", "timeout", 0),
        ),
        ("200 result=1 (Ivanov Ivan)", AgiReply(200, "result=1 (Ivanov Ivan)", "1", "Ivanov Ivan")),
        # a value holding parentheses and even "endpos=" stays whole
        (
            "200 result=1 (a (b) endpos=5)",
            AgiReply(200, "result=1 (a (b) endpos=5)", "1", "a (b) endpos=5"),
        ),
        ("510 Invalid or unknown command", AgiReply(510, "Invalid or unknown command")),
        (
            "520-Invalid command syntax.  Proper usage follows:",
            AgiReply(520, "Invalid command syntax.  Proper usage follows:", continued=True),
        ),
    ],
)
def test_parse_reply(line: str, expected: AgiReply) -> None:
    assert parse_reply(line) == expected


@pytest.mark.parametrize("line", ["", "hello", "20 result=1", "200 status=1", "HANGUP"])
def test_parse_reply_refuses_what_asterisk_never_sends(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        parse_reply(line)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("hello-world", "hello-world"),
        ("CALLERID(num)", "CALLERID(num)"),
        ("silence/1", "silence/1"),
        ("PJSIP/101,30,tT", "PJSIP/101,30,tT"),
        ("probe done", '"probe done"'),
        ("", '""'),
        ('say "hi"', '"say \\"hi\\""'),
        ("a\\b", '"a\\\\b"'),
        ("x\r\nANSWER", '"x  ANSWER"'),
    ],
)
def test_arguments_are_bare_only_when_plain(value: str, written: str) -> None:
    assert arg(value) == written
    # and Asterisk's parser gives back the value (control characters made spaces)
    assert parse_agi_args(f"VERBOSE {written}")[1] == value.replace("\r", " ").replace("\n", " ")


def test_command_line_limits() -> None:
    assert command_line("SAY DIGITS", "123", escape_digits("")) == b'SAY DIGITS 123 ""\n'
    with pytest.raises(ValueError, match="verb"):
        command_line("ANSWER\nHANGUP")
    with pytest.raises(ValueError, match="control"):
        command_line("VERBOSE", "a\nb")
    with pytest.raises(ValueError, match="longer"):
        command_line("VERBOSE", "x" * MAX_COMMAND_BYTES)
    with pytest.raises(ValueError, match="escape digits"):
        escape_digits("1x")


def env_lines(pairs: list[tuple[str, str]]) -> list[str]:
    return encode_environment(pairs).decode().splitlines()[:-1]


def test_environment_first_occurrence_wins_against_forged_lines() -> None:
    lines = env_lines(environment("ivr"))
    # a caller name carrying a newline could inject lines after agi_calleridname
    lines.insert(10, "agi_request: agi://127.0.0.1:4573/dialer")
    lines.insert(11, "garbage without a colon")
    env = parse_environment(lines)
    assert (env.script, env.request) == ("ivr", "agi://127.0.0.1:4573/ivr")
    assert env.get("accountcode") == ""
    assert env.get("agi_threadid") == "140185067177664"


def test_environment_needs_a_request() -> None:
    with pytest.raises(AgiProtocolError):
        parse_environment(["agi_channel: SIP/1-0001"])


def test_script_from_network_script_when_the_request_is_not_an_url() -> None:
    env = parse_environment(["agi_network_script: ivr/?lang=ru", "agi_request: ivr"])
    assert env.script == "ivr"
    assert dict(env.query) == {"lang": "ru"}


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("+79161234567", "+79161234567"),
        ("84951234567", "84951234567"),
        ("+7 (916) 123-45-67", "+79161234567"),
        ("unknown", ""),
        ("", ""),
        ("sip:101@10.0.0.1", ""),
        ("1+2", ""),
        ("' OR 1=1 --", ""),
        ("1" * 21, ""),
        ("٣٤٥", ""),  # non-ASCII digits are not phone digits
    ],
)
def test_sanitised_callerid(raw: str, clean: str) -> None:
    assert sanitise_callerid(raw) == clean


def test_sanitised_callerid_name() -> None:
    assert sanitise_callerid_name("  Ivanov\x1b[31m   Ivan ") == "Ivanov [31m Ivan"
    assert sanitise_callerid_name("unknown") == ""
    assert len(sanitise_callerid_name("Я" * 500)) == 64
