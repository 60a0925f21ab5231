"""AGI wire format: the command lines we write and the reply lines Asterisk sends back.

Asterisk splits a command line into arguments itself (res_agi.c `parse_args`): whitespace
separates, `"` toggles quoting, `\\` makes the next character literal. So any argument that
is not a plain token is written quoted with `\\` and `"` escaped, and control characters
(CR/LF/NUL...) are replaced: a caller name such as `x\\nHANGUP` can never end the line early
or add a command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callcenter.pbx.agi_errors import AgiProtocolError

# Asterisk reads a command into an 8 KiB buffer (AGI_BUF_LEN); a longer line would be split
# into two commands, so we refuse it.
MAX_COMMAND_BYTES = 8000

_CONTROL = {code: " " for code in (*range(0x20), 0x7F)}
# Tokens Asterisk passes through unchanged without quoting (file names, variable names
# with a function argument such as CALLERID(num), dialplan app arguments).
_BARE = re.compile(r"[A-Za-z0-9_.,:/@+=()-]+")
_VERB = re.compile(r"[A-Z]+(?: [A-Z]+)*")
DTMF_DIGITS = frozenset("0123456789*#ABCD")


def clean(value: object) -> str:
    """`value` as text with every control character (CR, LF, NUL, TAB...) made a space."""
    return str(value).translate(_CONTROL)


def quote(value: object) -> str:
    """Always-quoted argument: `"` and `\\` escaped the way Asterisk's parser undoes."""
    text = clean(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def arg(value: object) -> str:
    """An argument written bare when it is a plain token, quoted otherwise (and when empty)."""
    text = clean(value)
    return text if _BARE.fullmatch(text) else quote(text)


def escape_digits(digits: str) -> str:
    """The escape-digits argument, always quoted as Asterisk's own examples do (`""` if none)."""
    bad = set(digits) - DTMF_DIGITS
    if bad:
        raise ValueError(f"escape digits may only be 0-9 * # A-D, got {''.join(sorted(bad))!r}")
    return quote(digits)


def command_line(verb: str, *args: str) -> bytes:
    """One encoded command line; `args` must already be formatted with `arg`/`quote`."""
    if not _VERB.fullmatch(verb):
        raise ValueError(f"not an AGI command verb: {verb!r}")
    line = " ".join((verb, *args))
    if clean(line) != line:
        raise ValueError("AGI command line contains control characters")
    data = (line + "\n").encode("utf-8")
    if len(data) > MAX_COMMAND_BYTES:
        raise ValueError(f"AGI command longer than {MAX_COMMAND_BYTES} bytes")
    return data


_REPLY = re.compile(r"(?P<code>\d{3})(?P<sep>[ -]|$)(?P<text>.*)")
# `data` is greedy so a variable value holding ")" stays whole; endpos only when it ends
# the parenthesised part, as in `200 result=1 (timeout) endpos=0`.
_RESULT = re.compile(
    r"result=(?P<result>\S*)(?: \((?P<data>.*)\))?(?: endpos=(?P<endpos>-?\d+))?(?: .*)?"
)


@dataclass(frozen=True, slots=True)
class AgiReply:
    """One reply line: `200 result=49 endpos=1234`, `200 result=1 (value)`, `510 Invalid...`."""

    code: int
    text: str  # everything after the code
    result: str = ""  # the token after `result=` (may be empty: `200 result= (timeout)`)
    data: str | None = None  # the parenthesised part, if any
    endpos: int | None = None
    continued: bool = False  # `520-...`: more lines follow up to `520 End of proper usage.`

    @property
    def result_int(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            raise AgiProtocolError(f"expected a numeric result, got {self.text!r}") from None


def parse_reply(line: str) -> AgiReply:
    """Parse one reply line (without its newline); the lone `HANGUP` line is not a reply."""
    match = _REPLY.fullmatch(line)
    if match is None:
        raise AgiProtocolError(f"not an AGI reply: {line[:80]!r}")
    code = int(match["code"])
    text = match["text"]
    if code != 200:
        return AgiReply(code, text, continued=match["sep"] == "-")
    result = _RESULT.fullmatch(text)
    if result is None:
        raise AgiProtocolError(f"200 reply without result=: {line[:80]!r}")
    endpos = result["endpos"]
    return AgiReply(
        code,
        text,
        result=result["result"],
        data=result["data"],
        endpos=int(endpos) if endpos is not None else None,
    )
