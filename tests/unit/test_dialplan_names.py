"""The names the platform sends to Asterisk exist in the configuration it ships."""

from __future__ import annotations

import re

from callcenter.domain import dialplan
from callcenter.inbound.flows import queues_from_conf


def _contexts() -> set[str]:
    text = (dialplan.SHIPPED_CONF_DIR / "extensions.conf").read_text()
    return set(re.findall(r"^\[([^\]]+)\]", text, flags=re.M))


def test_every_context_the_platform_names_is_in_extensions_conf() -> None:
    missing = set(dialplan.CONTEXTS) - _contexts()
    assert not missing, f"extensions.conf lacks {sorted(missing)}"


def test_every_support_line_queue_is_in_queues_conf() -> None:
    queues = queues_from_conf(dialplan.SHIPPED_CONF_DIR / "queues.conf")
    assert set(dialplan.LINE_QUEUES.values()) <= queues


def test_the_transfer_context_reaches_each_line_and_the_ivr() -> None:
    text = (dialplan.SHIPPED_CONF_DIR / "extensions.conf").read_text()
    block = text.split(f"[{dialplan.TRANSFER_CONTEXT}]", 1)[1].split("\n[", 1)[0]
    for exten in [*dialplan.LINE_QUEUES.values(), dialplan.IVR_EXTEN, dialplan.VOICEMAIL_EXTEN]:
        assert f"exten => {exten},1," in block, exten
