"""FastAPI dependencies: the platform, a database session, the signed-in user, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.api.tokens import InvalidTokenError, decode_token
from callcenter.bootstrap import Platform
from callcenter.db.repositories import users as users_repo
from callcenter.domain.roles import Role

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_session(platform: PlatformDep) -> AsyncIterator[AsyncSession]:
    async with platform.session_factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


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


async def current_user(
    platform: PlatformDep,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> CurrentUser:
    if not token:
        raise _UNAUTHORISED
    try:
        claims = decode_token(token, secret=platform.settings.jwt_secret.get_secret_value())
    except InvalidTokenError:
        raise _UNAUTHORISED from None
    # The account is re-read on every request so a disabled user or a changed role
    # takes effect at once rather than when the token expires.
    user = await users_repo.get(session, claims.user_id)
    if user is None or not user.is_active or user.username != claims.username:
        raise _UNAUTHORISED
    return CurrentUser(
        id=user.id, username=user.username, role=Role(user.role), operator_id=user.operator_id
    )


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
