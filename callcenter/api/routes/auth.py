"""Sign-in (OAuth2 password flow, JWT bearer) and the signed-in user's profile."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from callcenter.accounts.throttle import SignInThrottle
from callcenter.accounts.users import authenticate
from callcenter.api.deps import PlatformDep, SessionDep, UserDep
from callcenter.api.schemas import TokenOut, UserOut
from callcenter.api.tokens import issue_token
from callcenter.domain.roles import Role
from callcenter.ports.records import User
from callcenter.ports.stores import Stores

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
log = logging.getLogger(__name__)

_MAX_USERNAME = 150
_MAX_PASSWORD = 1024


def _throttle(request: Request) -> SignInThrottle:
    throttle: SignInThrottle = request.app.state.signin_throttle
    return throttle


def _printable(username: str) -> bool:
    return username.isprintable() and len(username) <= _MAX_USERNAME


async def checked_sign_in(request: Request, tx: Stores, username: str, password: str) -> User:
    """The user whose password this is, through the throttle, every failure audited.

    Raises HTTPException 429 (with Retry-After) or 401. Shared by the API's token endpoint
    and the sign-in page, so neither is a way around the other's limits.
    """
    throttle = _throttle(request)
    address = request.client.host if request.client else "unknown"
    wait = throttle.begin(username, address, time.monotonic())
    if wait is not None:
        await _audit_failure(tx, "auth.sign_in_throttled", username, address, None)
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many failed sign-ins; try again later",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    user = None
    try:
        if _printable(username) and len(password) <= _MAX_PASSWORD:
            user = await authenticate(tx, username, password)
        if user is None:
            throttle.failed(username, address, time.monotonic())
    finally:
        throttle.end(username, address)
    if user is None:
        known = await tx.users.get_by_username(username) if _printable(username) else None
        await _audit_failure(
            tx, "auth.sign_in_failed", username, address, known.id if known else None
        )
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="wrong user name or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    throttle.succeeded(username)
    return user


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Sign in with user name and password; returns a bearer token",
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    platform: PlatformDep,
    tx: SessionDep,
    request: Request,
) -> TokenOut:
    user = await checked_sign_in(request, tx, form.username, form.password)
    settings = platform.settings
    role = Role(user.role)
    access, expires_at = issue_token(
        secret=settings.jwt_secret.get_secret_value(),
        user_id=user.id,
        username=user.username,
        role=role,
        now=datetime.now(UTC),
        ttl=timedelta(minutes=settings.jwt_expire_minutes),
    )
    return TokenOut(access_token=access, expires_at=expires_at, role=role)


@router.get("/me", response_model=UserOut, summary="The signed-in user")
async def me(user: UserDep, tx: SessionDep) -> UserOut:
    row = await tx.users.get(user.id)
    if row is None:  # deleted between the auth check and now
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="user is gone")
    return UserOut.model_validate(row)


async def _audit_failure(
    tx: Stores, action: str, username: str, address: str, user_id: int | None
) -> None:
    # The name is stored escaped and cut short: it is whatever an attacker typed.
    shown = ascii(username[:_MAX_USERNAME])
    log.warning("%s for user name %s from %s", action, shown, address)
    await tx.audit.append(
        action,
        at=datetime.now(UTC),
        user_id=user_id,
        object_type="user",
        object_id=str(user_id) if user_id is not None else "",
        details={"username": shown},
        remote_addr=address,
    )
    await tx.commit()
