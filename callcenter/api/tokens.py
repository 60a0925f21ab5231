"""JWT bearer tokens: what they carry and how they are checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from callcenter.domain.roles import Role

ALGORITHM = "HS256"
ISSUER = "callcenter"


class InvalidTokenError(Exception):
    pass


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    username: str
    role: Role
    expires_at: datetime


def issue_token(
    *, secret: str, user_id: int, username: str, role: Role, now: datetime, ttl: timedelta
) -> tuple[str, datetime]:
    expires_at = now + ttl
    payload = {
        "sub": username,
        "uid": user_id,
        "role": role.value,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "iss": ISSUER,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM), expires_at


def decode_token(token: str, *, secret: str) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "uid", "role", "iss"]},
        )
        return TokenClaims(
            user_id=int(payload["uid"]),
            username=str(payload["sub"]),
            role=Role(payload["role"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), tz=UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError, OverflowError, OSError) as exc:
        raise InvalidTokenError(str(exc)) from None
