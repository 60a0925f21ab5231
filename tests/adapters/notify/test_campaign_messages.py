"""A campaign's message sent by SMS and e-mail, through the real adapters to local peers."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.common.access import Actor
from callcenter.db.models import User
from callcenter.db.repositories import campaigns as campaigns_repo
from callcenter.domain.campaigns import CampaignKind
from callcenter.domain.roles import Role
from callcenter.notify.email import SmtpConfig, SmtpEmailSender
from callcenter.notify.sms import HttpSmsGateway, SmsGatewayConfig
from callcenter.outbound.campaigns import CampaignDraft, CampaignsService, Channel
from callcenter.ports.queries import NewContact
from tests.adapters.notify.conftest import HttpPeer, SmtpPeer


async def test_campaign_message_goes_out_by_sms_and_email(
    session_factory: async_sessionmaker[AsyncSession], http_peer: HttpPeer, smtp_peer: SmtpPeer
) -> None:
    now = datetime.now(UTC)
    async with session_factory.begin() as session:
        user = User(username="sv", password_hash="-", role=Role.SUPERVISOR, full_name="Sv")
        session.add(user)
        await session.flush()
        contact_list = await campaigns_repo.create_list(session, "Плановые отключения")
        await campaigns_repo.add_contacts(
            session,
            contact_list.id,
            [
                NewContact(
                    "+79161230001", "Иванов", {"day": "2026-03-15", "email": "i@example.ru"}
                ),
                NewContact("+79161230002", "Петров", {"day": "2026-03-16"}),
                NewContact("+79161230003", "Сидоров", {"day": "2026-03-17"}),
                NewContact("+79161230004", "Без даты", {}),
            ],
        )
        await campaigns_repo.add_do_not_call(session, "+79161230003", "", now)
    actor = Actor(user_id=user.id, role=Role.SUPERVISOR)
    http_peer.replies = [(200, '{"id": "a"}'), (400, '{"error": "number blocked"}')]
    async with HttpSmsGateway(SmsGatewayConfig(url=http_peer.url, sender="Energo")) as sms:
        email = SmtpEmailSender(
            SmtpConfig(host="127.0.0.1", port=smtp_peer.port, sender="info@energo.example")
        )
        service = CampaignsService(
            session_factory, clock=lambda: datetime.now(UTC), sms=sms, email=email
        )
        campaign = await service.create(
            actor,
            CampaignDraft(
                name="Отключение",
                kind=CampaignKind.AUTO_INFORM,
                contact_list_id=contact_list.id,
                starts_at=now,
                message_template="{name}, {day:date} плановое отключение электроэнергии.",
            ),
        )
        by_sms = await service.send_messages(actor, campaign.id, Channel.SMS)
        by_email = await service.send_messages(
            actor, campaign.id, Channel.EMAIL, subject="Плановое отключение"
        )

    # Иванов and Петров by SMS (Петров's number refused); Сидоров is on the do-not-call list;
    # "Без даты" has no date for the message
    assert (by_sms.contacts, by_sms.sent, by_sms.refused, by_sms.skipped) == (4, 1, 1, 2)
    assert any("number blocked" in e for e in by_sms.errors)
    texts = sorted(r.json()["text"] for r in http_peer.requests)
    assert texts == [
        "Иванов, 15.03.2026 плановое отключение электроэнергии.",
        "Петров, 16.03.2026 плановое отключение электроэнергии.",
    ]
    # by e-mail only Иванов has an address
    assert (by_email.sent, by_email.skipped) == (1, 3)
    [envelope] = smtp_peer.mailbox.messages
    assert envelope.rcpt_tos == ["i@example.ru"]
    assert isinstance(envelope.original_content, bytes)
    body = message_from_bytes(envelope.original_content).get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "15.03.2026 плановое отключение" in body.decode()
