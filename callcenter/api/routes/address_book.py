"""Address books (table 9, functions 12-14): the corporate directory (administrators edit it)
and the user's personal book (no size limit, paged, private to its owner)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from callcenter.api.schemas.address_book import (
    CorporateContactIn,
    CorporateContactOut,
    CorporatePage,
    FromCallIn,
    PersonalContactIn,
    PersonalContactOut,
    PersonalContactPatch,
    PersonalPage,
)
from callcenter.api.workstation import (
    ERROR_RESPONSES,
    ActorDep,
    AddressBookDep,
    WorkstationRoute,
    editors_only,
)
from callcenter.workstation.address_book import CorporateFields

router = APIRouter(
    prefix="/api/v1/address-book",
    tags=["address book"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)

_ADMINS = editors_only(
    "Корпоративную адресную книгу изменяет администратор",
    object_type="corporate_contact",
    admin=True,
)


Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]
Search = Annotated[
    str, Query(max_length=100, description="words of the name etc., or digits of the number")
]


def _fields(body: CorporateContactIn) -> CorporateFields:
    return CorporateFields(
        name=body.name,
        department=body.department,
        position=body.position,
        phone=body.phone,
        extension=body.extension,
        email=body.email,
    )


# ---- corporate ----


@router.get("/corporate", response_model=CorporatePage, summary="The corporate directory")
async def corporate(
    actor: ActorDep, book: AddressBookDep, q: Search = "", limit: Limit = 50, offset: Offset = 0
) -> CorporatePage:
    page = await book.corporate(actor, query=q, limit=limit, offset=offset)
    return CorporatePage(
        items=[CorporateContactOut.model_validate(c) for c in page.items], total=page.total
    )


@router.post(
    "/corporate",
    response_model=CorporateContactOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[_ADMINS("corporate_contact.create")],
    summary="Add a directory entry (administrator)",
)
async def corporate_create(
    body: CorporateContactIn, actor: ActorDep, book: AddressBookDep
) -> CorporateContactOut:
    return CorporateContactOut.model_validate(await book.corporate_create(actor, _fields(body)))


@router.put(
    "/corporate/{contact_id}",
    response_model=CorporateContactOut,
    dependencies=[_ADMINS("corporate_contact.update")],
    summary="Replace a directory entry (administrator)",
)
async def corporate_update(
    contact_id: int, body: CorporateContactIn, actor: ActorDep, book: AddressBookDep
) -> CorporateContactOut:
    contact = await book.corporate_update(actor, contact_id, _fields(body))
    return CorporateContactOut.model_validate(contact)


@router.delete(
    "/corporate/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    dependencies=[_ADMINS("corporate_contact.delete")],
    summary="Remove a directory entry (administrator)",
)
async def corporate_delete(contact_id: int, actor: ActorDep, book: AddressBookDep) -> Response:
    await book.corporate_delete(actor, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- personal ----


@router.get("/personal", response_model=PersonalPage, summary="My personal address book")
async def personal(
    actor: ActorDep, book: AddressBookDep, q: Search = "", limit: Limit = 50, offset: Offset = 0
) -> PersonalPage:
    page = await book.personal(actor, query=q, limit=limit, offset=offset)
    return PersonalPage(
        items=[PersonalContactOut.model_validate(c) for c in page.items], total=page.total
    )


@router.post(
    "/personal",
    response_model=PersonalContactOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a contact to my book",
)
async def personal_create(
    body: PersonalContactIn, actor: ActorDep, book: AddressBookDep
) -> PersonalContactOut:
    contact = await book.personal_create(actor, name=body.name, phone=body.phone, note=body.note)
    return PersonalContactOut.model_validate(contact)


@router.post(
    "/personal/from-call",
    response_model=PersonalContactOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add the number of one of my calls (e.g. a missed one) to my book",
)
async def personal_from_call(
    body: FromCallIn, actor: ActorDep, book: AddressBookDep
) -> PersonalContactOut:
    contact = await book.personal_from_call(actor, body.call_id, name=body.name, note=body.note)
    return PersonalContactOut.model_validate(contact)


@router.get(
    "/personal/{contact_id}", response_model=PersonalContactOut, summary="One of my contacts"
)
async def personal_get(
    contact_id: int, actor: ActorDep, book: AddressBookDep
) -> PersonalContactOut:
    return PersonalContactOut.model_validate(await book.personal_get(actor, contact_id))


@router.patch(
    "/personal/{contact_id}", response_model=PersonalContactOut, summary="Change my contact"
)
async def personal_update(
    contact_id: int, body: PersonalContactPatch, actor: ActorDep, book: AddressBookDep
) -> PersonalContactOut:
    contact = await book.personal_update(
        actor, contact_id, name=body.name, phone=body.phone, note=body.note
    )
    return PersonalContactOut.model_validate(contact)


@router.delete(
    "/personal/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove my contact",
)
async def personal_delete(contact_id: int, actor: ActorDep, book: AddressBookDep) -> Response:
    await book.personal_delete(actor, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
