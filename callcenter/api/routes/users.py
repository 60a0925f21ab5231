"""User administration (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter

from callcenter.api.deps import AdminDep, SessionDep
from callcenter.api.schemas import UserOut

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("", response_model=list[UserOut], summary="All user accounts (administrator)")
async def list_users(_admin: AdminDep, tx: SessionDep) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in await tx.users.list_all()]
