"""Sign-in (OAuth2 password flow, JWT bearer) and the signed-in user's profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from callcenter.accounts.users import authenticate
from callcenter.api.deps import PlatformDep, SessionDep, UserDep
from callcenter.api.schemas import TokenOut, UserOut
from callcenter.api.tokens import issue_token
from callcenter.domain.roles import Role

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Sign in with user name and password; returns a bearer token",
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    platform: PlatformDep,
    tx: SessionDep,
) -> TokenOut:
    user = await authenticate(tx, form.username, form.password)
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="wrong user name or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
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
