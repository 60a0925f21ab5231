"""User administration (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter

from callcenter.api.deps import AdminDep, SessionDep
from callcenter.api.schemas import UserOut
from callcenter.db.repositories import users as users_repo

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("", response_model=list[UserOut], summary="All user accounts (administrator)")
async def list_users(_admin: AdminDep, session: SessionDep) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in await users_repo.list_all(session)]
