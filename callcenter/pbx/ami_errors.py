"""The AMI client's exception tree: everything it raises derives from `AmiError`.

    AmiError
    ├── AmiNotConnectedError    no logged-in, resynced link: nothing was written
    ├── AmiConnectionLostError  the link dropped after the action was written: outcome unknown
    ├── AmiTimeoutError         no reply within the timeout: outcome unknown
    ├── AmiActionError          Asterisk answered `Response: Error` (action, Asterisk's Message)
    └── AmiLoginError           Asterisk refused the login ("Authentication failed",
                                "Login Already In Use", ...)

"Outcome unknown" matters for actions with side effects: after AmiConnectionLostError or
AmiTimeoutError an Originate may or may not have created a channel, so never resend it blindly
(`AmiClient.originate` checks CoreShowChannels first).
"""

from __future__ import annotations

from callcenter.pbx.frames import AmiFrame


class AmiError(Exception):
    """Base of every error the AMI client raises."""


class AmiNotConnectedError(AmiError):
    """The client has no usable AMI link right now; the action was not sent."""


class AmiConnectionLostError(AmiError):
    """The link dropped while the action was in flight; Asterisk may or may not have run it."""

    def __init__(self, action: str) -> None:
        super().__init__(f"AMI connection lost while waiting for the reply to {action}")
        self.action = action


class AmiTimeoutError(AmiError):
    """No reply arrived in time; Asterisk may or may not have run the action."""

    def __init__(self, action: str, timeout: float) -> None:
        super().__init__(f"no AMI reply to {action} within {timeout:g} s")
        self.action = action
        self.timeout = timeout


class AmiActionError(AmiError):
    """Asterisk answered `Response: Error`; `message` is Asterisk's own text."""

    def __init__(self, action: str, message: str, frame: AmiFrame | None = None) -> None:
        super().__init__(f"{action} failed: {message}")
        self.action = action
        self.message = message
        self.frame = frame


class AmiLoginError(AmiError):
    """Asterisk refused the login; `message` is its text (e.g. "Authentication failed")."""

    def __init__(self, message: str) -> None:
        super().__init__(f"AMI login refused: {message}")
        self.message = message
