"""Caller-id strings as AMI and AGI carry them: `"Ivanov Ivan" <+79161234567>`."""

from __future__ import annotations

import re

from callcenter.sim.channels import Party

_WITH_NUMBER = re.compile(r'^\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^<]*?))\s*<(?P<num>[^>]*)>\s*$')


def parse_callerid(text: str) -> Party:
    """ast_callerid_parse: name and number; a lone value is a number if it looks like one."""
    match = _WITH_NUMBER.match(text)
    if match:
        name = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
        number = match.group("num").strip()
        return Party(number or None, (name or "").strip() or None)
    value = text.strip().strip('"')
    if not value:
        return Party()
    if re.fullmatch(r"[+\d*#()\- ]+", value):
        return Party(re.sub(r"[()\- ]", "", value), None)
    return Party(None, value)
