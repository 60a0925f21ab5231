"""Listen / whisper / barge: which phone rings into which feature code of [supervisor]."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from callcenter.acd.supervision import SpyMode, SpyUnavailable, SupervisionService
from callcenter.common.access import AccessDenied, Actor, InvalidInput, NotFound
from callcenter.domain.roles import Role

SUPERVISOR = Actor(user_id=1, role=Role.SUPERVISOR)


class FakePbx:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, str | None]] = []

    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: int | None = None,
        channel_id: str | None = None,
        caller_id_name: str | None = None,
        caller_id_number: str | None = None,
        variables: Mapping[str, object] | None = None,
    ) -> object:
        self.calls.append((channel, context, exten))
        return None


@pytest.mark.parametrize(
    ("mode", "exten"),
    [(SpyMode.LISTEN, "*1101"), (SpyMode.WHISPER, "*2101"), (SpyMode.BARGE, "*3101")],
)
async def test_the_supervisors_phone_rings_into_the_feature_code(mode: SpyMode, exten: str) -> None:
    pbx = FakePbx()
    session = await SupervisionService(pbx).spy(
        SUPERVISOR, operator_extension="101", mode=mode, phone="150"
    )
    assert pbx.calls == [("PJSIP/150", "supervisor", exten)]
    assert session.exten == exten


async def test_refusals() -> None:
    service = SupervisionService(FakePbx())
    with pytest.raises(AccessDenied):
        await service.spy(
            Actor(user_id=2, role=Role.OPERATOR, operator_id=1),
            operator_extension="101",
            mode=SpyMode.LISTEN,
            phone="150",
        )
    with pytest.raises(NotFound):
        await service.spy(SUPERVISOR, operator_extension=None, mode=SpyMode.LISTEN, phone="150")
    for phone in ("", "PJSIP/1", "15 0", "101"):
        with pytest.raises(InvalidInput):
            await service.spy(
                SUPERVISOR, operator_extension="101", mode=SpyMode.LISTEN, phone=phone
            )
    with pytest.raises(SpyUnavailable):
        await SupervisionService(None).spy(
            SUPERVISOR, operator_extension="101", mode=SpyMode.LISTEN, phone="150"
        )
