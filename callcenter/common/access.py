"""What every workstation use case shares: who is acting, the error tree, one transaction per
use case, the audit trail, and the record of refused access.

Error tree (messages are Russian: the API shows them to the operator as they are):

    WorkstationError
      NotFound        the object does not exist (or is private to someone else)
      AccessDenied    it exists but the actor's role or line does not allow this (audited)
      Conflict        the change clashes with the object's state or a unique name
      InvalidInput    the request is well-formed but its content is not acceptable
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callcenter.domain.roles import Role
from callcenter.domain.visibility import Viewer
from callcenter.ports.stores import Stores, Transactions

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sessions = Transactions

ACCESS_DENIED_ACTION = "access_denied"


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in user a use case runs for."""

    user_id: int
    role: Role
    operator_id: int | None = None
    remote_addr: str | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.role.at_least(Role.SUPERVISOR)

    @property
    def is_admin(self) -> bool:
        return self.role.at_least(Role.ADMINISTRATOR)


class WorkstationError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(WorkstationError):
    pass


class Conflict(WorkstationError):
    pass


class InvalidInput(WorkstationError):
    pass


class AccessDenied(WorkstationError):
    """Refused by an object-level rule; recorded in the audit log after the rollback.

    `hidden` refusals are shown as "not found" so that, e.g., probing another user's
    personal contact ids does not even reveal that they exist.
    """

    def __init__(
        self,
        message: str,
        *,
        action: str,
        object_type: str,
        object_id: str,
        hidden: bool = False,
    ) -> None:
        super().__init__(message)
        self.action = action
        self.object_type = object_type
        self.object_id = object_id
        self.hidden = hidden


class UseCases:
    """Base of the workstation services: sessions, clock, transactions, audit."""

    def __init__(self, sessions: Sessions, *, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now

    @asynccontextmanager
    async def transaction(self, actor: Actor) -> AsyncIterator[Stores]:
        """One use case, one transaction. A refusal rolls the use case back and is then
        written to the audit log in a transaction of its own (after the first one ended, so
        SQLite's single writer is free)."""
        try:
            async with self._sessions() as tx:
                yield tx
                # committed through the port so a clash surfaces as StoreConflict
                await tx.commit()
        except AccessDenied as exc:
            await self._record_refusal(actor, exc)
            raise

    async def refuse(self, actor: Actor, exc: AccessDenied) -> AccessDenied:
        """Audit a refusal decided before any use case ran (a role check); returns `exc`."""
        await self._record_refusal(actor, exc)
        return exc

    async def _record_refusal(self, actor: Actor, exc: AccessDenied) -> None:
        async with self._sessions.begin() as tx:
            await tx.audit.append(
                ACCESS_DENIED_ACTION,
                at=self.now(),
                user_id=actor.user_id,
                object_type=exc.object_type,
                object_id=exc.object_id,
                details={"action": exc.action, "role": actor.role.value},
                remote_addr=actor.remote_addr,
            )
        log.info(
            "refused %s on %s %s for user %s",
            exc.action,
            exc.object_type,
            exc.object_id,
            actor.user_id,
        )

    async def audit(
        self,
        tx: Stores,
        actor: Actor,
        action: str,
        *,
        object_type: str,
        object_id: object,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        await tx.audit.append(
            action,
            at=self.now(),
            user_id=actor.user_id,
            object_type=object_type,
            object_id=str(object_id),
            details=details,
            remote_addr=actor.remote_addr,
        )


async def viewer_for(tx: Stores, actor: Actor) -> Viewer:
    """The actor with their support line, as the visibility rules need it."""
    line = None
    if actor.operator_id is not None:
        operator = await tx.operators.get(actor.operator_id)
        line = operator.support_line if operator is not None else None
    return Viewer(
        user_id=actor.user_id, role=actor.role, operator_id=actor.operator_id, support_line=line
    )


def require_operator(actor: Actor) -> int:
    """The actor's operator id, for use cases that only make sense for an operator login."""
    if actor.operator_id is None:
        raise InvalidInput("Учётная запись не привязана к оператору: у неё нет своих звонков")
    return actor.operator_id
