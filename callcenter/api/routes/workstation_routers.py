"""The operator workstation's routers (table 9), in the order they appear in the API docs."""

from __future__ import annotations

from fastapi import APIRouter

from callcenter.api.routes import (
    address_book,
    appeals,
    call_control,
    calls_history,
    customers,
    knowledge_base,
    operators,
    reminders,
    scripts,
    surveys,
)

ROUTERS: tuple[APIRouter, ...] = (
    customers.router,
    appeals.router,
    reminders.router,
    scripts.router,
    knowledge_base.router,
    calls_history.router,
    call_control.router,
    address_book.router,
    operators.router,
    surveys.router,
)
