"""Channel variables shared by the FastAGI handlers and the dialplan (`asterisk_conf/`).

One file so that Python and the dialplan agree on every name: the dialplan reads these after
`AGI()` returns (e.g. `Queue(${IVR_TARGET})`), the handlers set them.
"""

from __future__ import annotations

from typing import Final

IVR_TARGET: Final = "IVR_TARGET"  # queue the caller goes to after the IVR, e.g. "line1"
IVR_PRIORITY: Final = "IVR_PRIORITY"  # queue priority for that caller (integer)
CUSTOMER_ID: Final = "CUSTOMER_ID"  # customer recognised by ANI or entered account, if any
CALL_UUID: Final = "CALL_UUID"  # the platform's id of this call, ties AMI/AGI/DB together
IVR_PATH: Final = "IVR_PATH"  # menu path the caller took, e.g. "1/2", for the operator card
IVR_FAILOVER: Final = "IVR_FAILOVER"  # "1" when the AGI side failed and sent the caller on
IVR_CLOSED: Final = "IVR_CLOSED"  # "1" when self-service closed the call (no operator needed)
QUEUED_CALLBACK: Final = "QUEUED_CALLBACK"  # "1" on the call placed back to a queued caller
RECORDING_NOTICE: Final = "RECORDING_NOTICE"  # version of the "call is recorded" notice played
DIAL_OPERATOR: Final = "DIAL_OPERATOR"  # queue interface of the operator placing a call
DIAL_NUMBER: Final = "DIAL_NUMBER"  # the number an operator dialled (E.164 or an extension)

ALL: Final = (
    IVR_TARGET,
    IVR_PRIORITY,
    CUSTOMER_ID,
    CALL_UUID,
    IVR_PATH,
    IVR_FAILOVER,
    IVR_CLOSED,
    QUEUED_CALLBACK,
    RECORDING_NOTICE,
    DIAL_OPERATOR,
    DIAL_NUMBER,
)
