"""The stores the use cases see (`callcenter.ports.stores`) on a real database: the same rows
as the repositories, and database failures turned into the port's errors."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from callcenter.db.engine import SessionFactory, create_engine, create_session_factory
from callcenter.domain.roles import Role
from callcenter.ports.stores import StoreConflict, Stores, StoreUnavailable


async def _add_user(tx: Stores, username: str) -> None:
    await tx.users.create(username=username, password_hash="h", role=Role.OPERATOR)


async def test_a_store_sees_what_it_wrote_in_the_same_transaction(
    session_factory: SessionFactory,
) -> None:
    async with session_factory() as tx:
        await _add_user(tx, "petrova")
        found = await tx.users.get_by_username("petrova")
        assert found is not None
        assert found.role is Role.OPERATOR
        await tx.commit()
    async with session_factory() as tx:
        assert await tx.users.get_by_username("petrova") is not None


async def test_a_duplicate_is_a_store_conflict_and_still_an_integrity_error(
    session_factory: SessionFactory,
) -> None:
    async with session_factory() as tx:
        await _add_user(tx, "ivanov")
        await tx.commit()
    async with session_factory() as tx:
        with pytest.raises(StoreConflict) as caught:
            await _add_user(tx, "ivanov")
        # code that predates the ports (repositories, their tests) still catches it
        assert isinstance(caught.value, IntegrityError)


async def test_a_database_that_cannot_be_reached_is_store_unavailable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = create_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none")
    factory = create_session_factory(engine)
    assert isinstance(factory, async_sessionmaker)
    try:
        async with factory() as tx:
            with pytest.raises(StoreUnavailable):
                await tx.users.get(1)
    finally:
        await engine.dispose()
