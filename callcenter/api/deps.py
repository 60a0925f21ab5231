"""FastAPI dependencies: the platform, a database session, the signed-in user, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket, status
from fastapi.security import OAuth2PasswordBearer

from callcenter.api.tokens import InvalidTokenError, decode_token
from callcenter.bootstrap import Platform
from callcenter.domain.roles import Role
from callcenter.ports.stores import Stores

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_session(platform: PlatformDep) -> AsyncIterator[Stores]:
    async with platform.session_factory() as tx:
        yield tx


SessionDep = Annotated[Stores, Depends(get_session)]


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    role: Role
    operator_id: int | None


_UNAUTHORISED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="not signed in or the token is invalid or expired",
    headers={"WWW-Authenticate": "Bearer"},
)


async def user_for_token(platform: Platform, token: str | None) -> CurrentUser | None:
    """The one place a bearer token becomes a user (HTTP and WebSocket alike).

    The account is re-read every time so a disabled user or a changed role takes effect at
    once rather than when the token expires."""
    if not token:
        return None
    try:
        claims = decode_token(token, secret=platform.settings.jwt_secret.get_secret_value())
    except InvalidTokenError:
        return None
    async with platform.session_factory() as tx:
        user = await tx.users.get(claims.user_id)
    if user is None or not user.is_active or user.username != claims.username:
        return None
    return CurrentUser(
        id=user.id, username=user.username, role=Role(user.role), operator_id=user.operator_id
    )


def websocket_token(websocket: WebSocket) -> str:
    """`?token=` (browsers cannot set headers on a WebSocket) or `Authorization: Bearer`."""
    token = websocket.query_params.get("token") or ""
    header = websocket.headers.get("authorization") or ""
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    return token


async def websocket_user(websocket: WebSocket) -> CurrentUser | None:
    """The signed-in user of a WebSocket, or None (the caller closes with 1008)."""
    platform: Platform = websocket.app.state.platform
    return await user_for_token(platform, websocket_token(websocket))


async def current_user(
    platform: PlatformDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> CurrentUser:
    user = await user_for_token(platform, token)
    if user is None:
        raise _UNAUTHORISED
    return user


UserDep = Annotated[CurrentUser, Depends(current_user)]


def require_role(minimum: Role) -> Callable[..., Awaitable[CurrentUser]]:
    """Dependency factory: the signed-in user must hold `minimum` or a higher role."""

    async def checker(user: UserDep) -> CurrentUser:
        if not user.role.at_least(minimum):
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"this needs the {minimum.value} role; you are {user.role.value}",
            )
        return user

    return checker


SupervisorDep = Annotated[CurrentUser, Depends(require_role(Role.SUPERVISOR))]
AdminDep = Annotated[CurrentUser, Depends(require_role(Role.ADMINISTRATOR))]
