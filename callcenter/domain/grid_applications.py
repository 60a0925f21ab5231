"""Grid-connection applications (технологическое присоединение): their stages.

`STATUS_TEXT_RU` is the default wording a caller hears; a stored application may carry
its own, more precise text.
"""

from __future__ import annotations

from enum import StrEnum


class GridApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    CONTRACT_SENT = "contract_sent"
    CONTRACT_SIGNED = "contract_signed"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


STATUS_TEXT_RU: dict[GridApplicationStatus, str] = {
    GridApplicationStatus.SUBMITTED: "Заявка зарегистрирована",
    GridApplicationStatus.UNDER_REVIEW: "Заявка на рассмотрении",
    GridApplicationStatus.CONTRACT_SENT: "Договор направлен заявителю на подписание",
    GridApplicationStatus.CONTRACT_SIGNED: "Договор подписан, готовятся технические условия",
    GridApplicationStatus.IN_PROGRESS: "Выполняются мероприятия по присоединению",
    GridApplicationStatus.COMPLETED: "Присоединение выполнено",
    GridApplicationStatus.REJECTED: "В заявке отказано",
}
