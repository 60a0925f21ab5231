"""Names the platform and the shipped Asterisk configuration (`asterisk_conf/`) share: the
queues of the support lines, the dialplan contexts and extensions the platform sends calls
to, and the FastAGI script names. Change a name here and in `asterisk_conf/` together;
tests/unit/test_dialplan_names.py fails when the two disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

# the configuration directory shipped with the platform (rendered by `callcenter asterisk`)
SHIPPED_CONF_DIR: Final = Path(__file__).resolve().parents[2] / "asterisk_conf"

# Queues, one per support line (queues.conf)
LINE_QUEUES: Final[dict[int, str]] = {1: "line1", 2: "line2", 3: "line3"}
FIRST_LINE_QUEUE: Final = LINE_QUEUES[1]

# Contexts of extensions.conf the platform names in AMI actions or recognises in events
FROM_TRUNK_CONTEXT: Final = "from-trunk"  # calls from the SIP trunk (the 8-800 number)
INBOUND_IVR_CONTEXT: Final = "inbound-ivr"  # the voice menu
TRANSFER_CONTEXT: Final = "transfer"  # <queue> | ivr | voicemail | <extension> | <number>
OUTBOUND_CONTEXT: Final = "outbound"  # public numbers, premium/international refused
INTERNAL_CONTEXT: Final = "internal"  # operator extensions
CONFERENCE_CONTEXT: Final = "conference"  # conference rooms 9XX
DIALER_CONTEXT: Final = "dialer"  # answered outbound campaign calls

# Extensions of the transfer context that are not queues
IVR_EXTEN: Final = "ivr"
VOICEMAIL_EXTEN: Final = "voicemail"

# FastAGI script names (agi://host/<script>)
IVR_SCRIPT: Final = "ivr"
DIALER_SCRIPT: Final = "dialer"

# Contexts whose calls are inbound calls from customers (for call records)
INBOUND_CONTEXTS: Final = frozenset({FROM_TRUNK_CONTEXT, INBOUND_IVR_CONTEXT, IVR_SCRIPT})

# Every context above must exist in the shipped extensions.conf
CONTEXTS: Final = (
    FROM_TRUNK_CONTEXT,
    INBOUND_IVR_CONTEXT,
    TRANSFER_CONTEXT,
    OUTBOUND_CONTEXT,
    INTERNAL_CONTEXT,
    CONFERENCE_CONTEXT,
    DIALER_CONTEXT,
)
