"""Exceptions of the FastAGI layer.

AgiError
├── AgiHangupError            the channel is gone: HANGUP line, 511 (or the socket closed)
│   └── AgiConnectionLostError  Asterisk closed the socket
├── AgiCommandError           510 unknown command, 520 usage, other failures
│   └── AgiNotPlayedError       result=-1 from a media command on a live channel: the file
│                               could not be played (missing, unreadable, no such format)
├── AgiProtocolError          data Asterisk never sends: the session is unusable
└── AgiTimeoutError           no reply in time: the session is unusable
"""

from __future__ import annotations


class AgiError(Exception):
    """Base of every FastAGI error."""


class AgiHangupError(AgiError):
    """The caller hung up (or the channel is dead): no further command will be sent."""


class AgiConnectionLostError(AgiHangupError):
    """Asterisk closed the connection; for a handler this is the same as a hang-up."""


class AgiCommandError(AgiError):
    """Asterisk refused or failed a command; the session itself is still usable."""

    def __init__(self, code: int, text: str, command: str) -> None:
        super().__init__(f"{code} {text} (command: {command})")
        self.code = code
        self.text = text
        self.command = command


class AgiProtocolError(AgiError):
    """The peer sent something Asterisk never sends; the session must be dropped."""


class AgiTimeoutError(AgiError):
    """No complete reply within the read timeout; the session must be dropped."""


class AgiNotPlayedError(AgiCommandError):
    """A media command answered `result=-1` while the channel is still up.

    Asterisk answers `200 result=-1 endpos=0` when it cannot open the sound file (it logs
    "File ... does not exist in any format"); on a hang-up the same reply is followed by a
    `HANGUP` line and `511` replies. The session goes on: the caller is still there.
    """

    def __init__(self, text: str, command: str, file: str) -> None:
        super().__init__(200, text, command)
        self.file = file
