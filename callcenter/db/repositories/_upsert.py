"""INSERT ... ON CONFLICT for whichever backend the session talks to.

Both PostgreSQL and SQLite (3.24+) speak the same ON CONFLICT clause, but SQLAlchemy exposes
it through each dialect's own `insert`; this picks the right one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

DialectInsert = postgresql.Insert | sqlite.Insert


def dialect_insert(session: AsyncSession, model: Any) -> DialectInsert:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"no ON CONFLICT support for the {name!r} dialect")
