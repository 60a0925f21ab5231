"""What the operator-workstation routers share: the clock, the acting user, the services, and
the translation of the services' errors into HTTP answers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from callcenter.api.deps import PlatformDep, UserDep
from callcenter.common.access import (
    AccessDenied,
    Actor,
    Clock,
    Conflict,
    InvalidInput,
    NotFound,
    UseCases,
    WorkstationError,
)
from callcenter.outbound.surveys import SurveysService
from callcenter.workstation.address_book import AddressBookService
from callcenter.workstation.appeals import AppealsService
from callcenter.workstation.call_history import CallHistoryService
from callcenter.workstation.customer_cards import CustomerCardsService
from callcenter.workstation.knowledge_base import KnowledgeBaseService
from callcenter.workstation.operators_view import OperatorsViewService
from callcenter.workstation.reminders import RemindersService
from callcenter.workstation.scripts import ScriptsService


class ErrorOut(BaseModel):
    detail: str


# the answers every workstation route may give besides its own
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {"model": ErrorOut, "description": "Not signed in"},
    status.HTTP_403_FORBIDDEN: {
        "model": ErrorOut,
        "description": "The role or support line does not allow it (recorded in the audit log)",
    },
    status.HTTP_404_NOT_FOUND: {"model": ErrorOut, "description": "No such object (or not yours)"},
    status.HTTP_409_CONFLICT: {"model": ErrorOut, "description": "Clashes with the object's state"},
    status.HTTP_422_UNPROCESSABLE_CONTENT: {
        "description": "The request is malformed (detail: a list of field errors) or its "
        "content is not acceptable (detail: a Russian sentence saying why)",
    },
}


def http_status(exc: WorkstationError) -> int:
    if isinstance(exc, AccessDenied):
        return status.HTTP_404_NOT_FOUND if exc.hidden else status.HTTP_403_FORBIDDEN
    if isinstance(exc, NotFound):
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, Conflict):
        return status.HTTP_409_CONFLICT
    if isinstance(exc, InvalidInput):
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    return status.HTTP_400_BAD_REQUEST


class WorkstationRoute(APIRoute):
    """A route whose service errors become JSON answers with the Russian message as detail."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except WorkstationError as exc:
                return JSONResponse(status_code=http_status(exc), content={"detail": exc.message})

        return handler


def system_clock() -> datetime:
    return datetime.now(UTC)


def get_clock() -> Clock:
    """The time source of the use cases (tests override this dependency)."""
    return system_clock


ClockDep = Annotated[Clock, Depends(get_clock)]


def get_actor(user: UserDep, request: Request) -> Actor:
    return Actor(
        user_id=user.id,
        role=user.role,
        operator_id=user.operator_id,
        remote_addr=request.client.host if request.client else None,
    )


ActorDep = Annotated[Actor, Depends(get_actor)]


def editors_only(message: str, *, object_type: str, admin: bool = False) -> Callable[[str], Any]:
    """Route dependencies refusing (403, audited like the services do) operators before the
    body is even validated, so an operator never learns the shape of a supervisor's request
    from validation errors. Call the result with the audited action name."""

    def for_action(action: str) -> Any:
        async def check(
            actor: ActorDep, platform: PlatformDep, clock: ClockDep, request: Request
        ) -> None:
            if actor.is_admin if admin else actor.is_supervisor:
                return
            ids = list(request.path_params.values())
            denial = AccessDenied(
                message,
                action=action,
                object_type=object_type,
                object_id=str(ids[0]) if ids else "new",
            )
            raise await UseCases(platform.session_factory, clock=clock).refuse(actor, denial)

        return Depends(check)

    return for_action


def get_appeals(platform: PlatformDep, clock: ClockDep) -> AppealsService:
    return AppealsService(platform.session_factory, clock=clock)


AppealsDep = Annotated[AppealsService, Depends(get_appeals)]


def get_reminders(platform: PlatformDep, clock: ClockDep, appeals: AppealsDep) -> RemindersService:
    return RemindersService(platform.session_factory, clock=clock, appeals=appeals)


def get_address_book(platform: PlatformDep, clock: ClockDep) -> AddressBookService:
    return AddressBookService(platform.session_factory, clock=clock)


AddressBookDep = Annotated[AddressBookService, Depends(get_address_book)]


def get_knowledge_base(platform: PlatformDep, clock: ClockDep) -> KnowledgeBaseService:
    return KnowledgeBaseService(platform.session_factory, clock=clock)


def get_scripts(platform: PlatformDep, clock: ClockDep, appeals: AppealsDep) -> ScriptsService:
    return ScriptsService(platform.session_factory, clock=clock, appeals=appeals)


def get_surveys(platform: PlatformDep, clock: ClockDep) -> SurveysService:
    return SurveysService(platform.session_factory, clock=clock)


def get_call_history(
    platform: PlatformDep, clock: ClockDep, book: AddressBookDep
) -> CallHistoryService:
    return CallHistoryService(platform.session_factory, clock=clock, address_book=book)


def get_operators_view(platform: PlatformDep, clock: ClockDep) -> OperatorsViewService:
    return OperatorsViewService(platform.session_factory, clock=clock)


def get_customer_cards(platform: PlatformDep, clock: ClockDep) -> CustomerCardsService:
    return CustomerCardsService(platform.session_factory, clock=clock)


RemindersDep = Annotated[RemindersService, Depends(get_reminders)]
KnowledgeBaseDep = Annotated[KnowledgeBaseService, Depends(get_knowledge_base)]
ScriptsDep = Annotated[ScriptsService, Depends(get_scripts)]
SurveysDep = Annotated[SurveysService, Depends(get_surveys)]
CallHistoryDep = Annotated[CallHistoryService, Depends(get_call_history)]
OperatorsViewDep = Annotated[OperatorsViewService, Depends(get_operators_view)]
CustomerCardsDep = Annotated[CustomerCardsService, Depends(get_customer_cards)]
