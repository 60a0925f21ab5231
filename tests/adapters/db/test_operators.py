from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import Operator
from callcenter.db.repositories import operators as operators_repo
from callcenter.domain.agents import OperatorState
from tests.adapters.db.conftest import NOW

SessionFactory = async_sessionmaker[AsyncSession]


async def test_operator_rings_pjsip_extension_unless_told_otherwise(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as session:
        await operators_repo.create(
            session,
            extension="101",
            full_name="Кузнецов Андрей Сергеевич",
            support_line=1,
            skills={"outages": 9},
        )
        await operators_repo.create(
            session, extension="102", full_name="Попова Елена", support_line=2, interface="SIP/x"
        )
        # the model's own default, for code that builds operators without the repository
        session.add(Operator(extension="103", full_name="Волков Дмитрий", support_line=3))
    async with session_factory() as session:
        first = await operators_repo.get_by_extension(session, "101")
        second = await operators_repo.get_by_extension(session, "102")
        third = await operators_repo.get_by_extension(session, "103")
        assert first is not None
        assert second is not None
        assert third is not None
        assert first.interface == "PJSIP/101"
        assert first.skills == {"outages": 9}
        assert second.interface == "SIP/x"
        assert third.interface == "PJSIP/103"
        assert third.skills == {}


@pytest.mark.parametrize("line", [0, 4])
async def test_support_line_must_be_1_to_3(session_factory: SessionFactory, line: int) -> None:
    async with session_factory() as session:
        with pytest.raises(IntegrityError):
            await operators_repo.create(
                session, extension="150", full_name="Неверная линия", support_line=line
            )


async def test_list_filters_by_line_and_activity(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        for ext, line in [("101", 1), ("102", 1), ("201", 2), ("301", 3)]:
            await operators_repo.create(session, extension=ext, full_name=ext, support_line=line)
        retired = await operators_repo.get_by_extension(session, "102")
        assert retired is not None
        retired.is_active = False
    async with session_factory() as session:
        lines_1_2 = await operators_repo.list_all(session, support_lines=[1, 2])
        everyone = await operators_repo.list_all(session, active_only=False)
    assert [o.extension for o in lines_1_2] == ["101", "201"]
    assert [o.extension for o in everyone] == ["101", "102", "201", "301"]


async def test_state_changes_close_the_previous_state(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        operator = await operators_repo.create(
            session, extension="101", full_name="Смирнова", support_line=1
        )
        assert await operators_repo.current_state(session, operator.id) is None
        await operators_repo.set_state(session, operator.id, OperatorState.READY, at=NOW)
        await operators_repo.set_state(
            session,
            operator.id,
            OperatorState.PAUSED,
            at=NOW + timedelta(minutes=10),
            pause_reason="обед",
        )
        await operators_repo.set_state(
            session, operator.id, OperatorState.READY, at=NOW + timedelta(minutes=40)
        )
    async with session_factory() as session:
        current = await operators_repo.current_state(session, operator.id)
        history = await operators_repo.state_history(
            session, operator.id, since=NOW + timedelta(minutes=5), until=NOW + timedelta(hours=1)
        )
        later = await operators_repo.state_history(
            session,
            operator.id,
            since=NOW + timedelta(minutes=45),
            until=NOW + timedelta(hours=1),
        )
    assert current is not None
    assert current.state is OperatorState.READY
    assert current.started_at == NOW + timedelta(minutes=40)
    assert [(h.state, h.pause_reason, h.ended_at) for h in history] == [
        (OperatorState.READY, None, NOW + timedelta(minutes=10)),
        (OperatorState.PAUSED, "обед", NOW + timedelta(minutes=40)),
        (OperatorState.READY, None, None),
    ]
    assert [h.state for h in later] == [OperatorState.READY]
