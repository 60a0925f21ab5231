"""AMI wire format: frames as ordered key/value pairs, a decoder and a sanitising encoder.

Shared by the AMI client, the event parser and the PBX simulator so that all three agree
on one representation of what travels over the socket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

# Values we write must never end a line or a frame early: a caller name such as
# "x\r\n\r\nAction: Originate" would otherwise inject a whole action.
_UNSAFE = str.maketrans("", "", "\r\n\x00")

MAX_FRAME_BYTES = 256 * 1024  # Asterisk's biggest frames (CoreShowChannels rows) are far smaller


def sanitise(value: object) -> str:
    """Return `value` as a string with CR, LF and NUL removed."""
    text = value if type(value) is str else str(value)
    # three C-speed scans are far cheaper than a translate() of every value: nearly every
    # value is clean, and it is written on every AMI action and simulated event
    if "\r" in text or "\n" in text or "\x00" in text:
        return text.translate(_UNSAFE)
    return text


@lru_cache(maxsize=1024)  # header names come from a small fixed set
def _sanitise_key(key: str) -> str:
    clean = sanitise(key).replace(":", "").strip()
    if not clean:
        raise ValueError(f"invalid AMI header name {key!r}")
    return clean


@dataclass(frozen=True, slots=True)
class AmiFrame:
    """One AMI frame in wire order; repeated keys (e.g. `Variable`) are kept."""

    pairs: tuple[tuple[str, str], ...]
    _index: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for key, value in self.pairs:
            index.setdefault(key.lower(), value)
        object.__setattr__(self, "_index", index)

    @classmethod
    def of(cls, *pairs: tuple[str, object], **fields: object) -> AmiFrame:
        items = [(k, str(v)) for k, v in pairs] + [(k, str(v)) for k, v in fields.items()]
        return cls(tuple(items))

    def get(self, key: str, default: str | None = None) -> str | None:
        """First value of `key` (case-insensitive, as Asterisk treats header names)."""
        return self._index.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        value = self._index.get(key.lower())
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._index

    def get_all(self, key: str) -> list[str]:
        lowered = key.lower()
        return [v for k, v in self.pairs if k.lower() == lowered]

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def as_dict(self) -> dict[str, str]:
        """First value per key, original key spelling; handy for logs and the journal."""
        out: dict[str, str] = {}
        for key, value in self.pairs:
            out.setdefault(key, value)
        return out


def encode_frame(pairs: Iterable[tuple[str, object]]) -> bytes:
    """Encode key/value pairs as one AMI frame, sanitising every key and value."""
    lines = [f"{_sanitise_key(k)}: {sanitise(v)}\r\n" for k, v in pairs]
    return ("".join(lines) + "\r\n").encode("utf-8")


def encode_action(action: str, fields: Iterable[tuple[str, object]] = ()) -> bytes:
    return encode_frame([("Action", action), *fields])


class FrameTooLargeError(ValueError):
    pass


class FrameDecoder:
    """Incremental decoder: feed bytes as they arrive, get complete frames back.

    Lines without a colon (the `Asterisk Call Manager/x.y` banner, or the body of a
    `Response: Follows` command output) are kept under the key "" so nothing is lost.
    """

    def __init__(
        self,
        max_frame_bytes: int = MAX_FRAME_BYTES,
        *,
        skip: Callable[[list[tuple[str, str]]], bool] | None = None,
    ) -> None:
        """`skip(pairs)` True: the frame is dropped before any object is built for it
        (counted in `skipped`), for frames the reader knows nobody uses."""
        self._skip = skip
        self.skipped = 0
        self._buffer = bytearray()
        self._pending: list[tuple[str, str]] = []
        self._pending_bytes = 0
        self._max = max_frame_bytes
        self.banner: str | None = None

    def feed(self, data: bytes) -> Iterator[AmiFrame]:
        self._buffer.extend(data)
        end = self._buffer.rfind(b"\n")
        if end < 0:
            if len(self._buffer) > self._max:
                self._buffer.clear()
                raise FrameTooLargeError("AMI line longer than the frame limit")
            return
        # every complete line at once: one copy and one decode of the chunk, not one per line
        # (a newline byte is never inside a UTF-8 sequence, so the decoded text splits into
        # the same lines, each decoded as it would be on its own)
        chunk = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        raw_lines = chunk.split(b"\n")
        lines = chunk.decode("utf-8", errors="replace").split("\n")
        raw_lines.pop()  # the empty rest after the last newline
        lines.pop()
        pending = self._pending
        limit = self._max
        for index, text in enumerate(lines):
            line = text.rstrip("\r\n")
            if not line:
                if pending:
                    done = pending
                    pending = self._pending = []
                    self._pending_bytes = 0
                    if self._skip is not None and self._skip(done):
                        self.skipped += 1
                    else:
                        yield AmiFrame(tuple(done))
                continue
            if self.banner is None and not pending and line.startswith("Asterisk Call Manager"):
                self.banner = line
                continue
            self._pending_bytes += len(raw_lines[index]) + 1
            if self._pending_bytes > limit:
                self._pending = []
                self._pending_bytes = 0
                # the lines after this one stay for the next call, as they arrived
                rest = b"".join(line_ + b"\n" for line_ in raw_lines[index + 1 :])
                self._buffer[0:0] = rest
                raise FrameTooLargeError("AMI frame larger than the frame limit")
            key, sep, value = line.partition(":")
            if sep:
                pending.append((key.strip(), value.removeprefix(" ")))
            else:
                pending.append(("", line))
        if len(self._buffer) > self._max:
            self._buffer.clear()
            raise FrameTooLargeError("AMI line longer than the frame limit")
