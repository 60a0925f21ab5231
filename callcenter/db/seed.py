"""Demo data: a small electricity utility in Тверская область, enough to click through every
screen and to drive the simulator (customers that ANI recognises, operators on lines 1-3,
outages around `now`, grid-connection applications, a knowledge base).

Deterministic: the same `now` gives the same data (except password salts).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.engine import SessionFactory
from callcenter.db.models import (
    AppealTopic,
    CallScript,
    CorporateContact,
    GridApplication,
    Locality,
    Survey,
    SurveyQuestion,
)
from callcenter.db.repositories import customers as customers_repo
from callcenter.db.repositories import knowledge_base as kb_repo
from callcenter.db.repositories import localities as localities_repo
from callcenter.db.repositories import operators as operators_repo
from callcenter.db.repositories import outages as outages_repo
from callcenter.db.repositories import queues as queues_repo
from callcenter.db.repositories import users as users_repo
from callcenter.domain.customers import CustomerCategory
from callcenter.domain.grid_applications import STATUS_TEXT_RU, GridApplicationStatus
from callcenter.domain.outages import OutageKind
from callcenter.domain.queues import QueueStrategy
from callcenter.domain.roles import Role
from callcenter.passwords import hash_password

REGION = "Тверская область"
# Moscow time has had no daylight saving since 2014
MSK = timezone(timedelta(hours=3), "MSK")
_RANDOM_SEED = 20240501

# documented demo credentials (README); every operator shares the first
OPERATOR_PASSWORD = "operator"
SUPERVISOR_USERNAME = "supervisor"
SUPERVISOR_PASSWORD = "supervisor"

# The first demo customer, fixed so demos and simulator scenarios can call "as" a known customer.
DEMO_CUSTOMER_PHONE = "+79157001122"
DEMO_CUSTOMER_ACCOUNT = "6901000001"


class DemoDataPresentError(Exception):
    """The demo data set is already in the database."""


@dataclass(frozen=True, slots=True)
class SeedReport:
    skipped: bool = False
    localities: int = 0
    customers: int = 0
    operators: int = 0
    users: int = 0
    queues: int = 0
    outages: int = 0
    grid_applications: int = 0
    kb_articles: int = 0
    appeal_topics: int = 0
    corporate_contacts: int = 0
    surveys: int = 0

    def __str__(self) -> str:
        if self.skipped:
            return "the database already has customers; demo data not added"
        return (
            f"demo data added: {self.localities} localities, {self.customers} customers, "
            f"{self.operators} operators, {self.users} users, {self.queues} queues, "
            f"{self.outages} outages, {self.grid_applications} grid applications, "
            f"{self.kb_articles} knowledge-base articles, {self.appeal_topics} appeal topics, "
            f"{self.corporate_contacts} corporate contacts, {self.surveys} survey"
        )


# name, telephone area code (national, without the trunk 8)
_LOCALITIES: list[tuple[str, str]] = [
    ("Тверь", "4822"),
    ("Ржев", "48232"),
    ("Торжок", "48251"),
    ("Вышний Волочёк", "48233"),
    ("Кимры", "48236"),
    ("Конаково", "48242"),
]

_SURNAMES = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
]  # fmt: skip
_MALE_NAMES = [
    "Александр", "Сергей", "Андрей", "Дмитрий", "Алексей", "Михаил", "Николай", "Владимир",
    "Иван", "Евгений", "Юрий", "Павел", "Виктор", "Олег", "Пётр", "Геннадий",
]  # fmt: skip
_FEMALE_NAMES = [
    "Елена", "Ольга", "Татьяна", "Наталья", "Ирина", "Светлана", "Марина", "Анна",
    "Екатерина", "Людмила", "Галина", "Валентина", "Мария", "Надежда", "Юлия", "Нина",
]  # fmt: skip
# (male, female) patronymics
_PATRONYMICS = [
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"), ("Андреевич", "Андреевна"),
    ("Дмитриевич", "Дмитриевна"), ("Алексеевич", "Алексеевна"), ("Михайлович", "Михайловна"),
    ("Николаевич", "Николаевна"), ("Владимирович", "Владимировна"), ("Иванович", "Ивановна"),
    ("Викторович", "Викторовна"), ("Петрович", "Петровна"), ("Юрьевич", "Юрьевна"),
    ("Олегович", "Олеговна"), ("Васильевич", "Васильевна"), ("Борисович", "Борисовна"),
]  # fmt: skip
_STREETS = [
    "ул. Советская", "ул. Ленина", "ул. Мира", "ул. Садовая", "ул. Школьная", "ул. Пролетарская",
    "ул. Октябрьская", "ул. Комсомольская", "ул. Заводская", "ул. Лесная", "наб. Волги",
    "пр-т Победы", "ул. Новая", "пер. Южный", "ул. Гагарина", "ул. Пушкина",
]  # fmt: skip
# organisation, town
_LEGAL_ENTITIES: list[tuple[str, str]] = [
    ("ООО «Тверьхлебпром»", "Тверь"),
    ("АО «Ржевский механический завод»", "Ржев"),
    ("ООО «Торжокская обувная фабрика»", "Торжок"),
    ("ООО «Волочёкстрой»", "Вышний Волочёк"),
    ("ИП Сидоров Павел Андреевич", "Тверь"),
    ("ООО «Кимрская швейная фабрика»", "Кимры"),
    ("ООО «Конаковский фаянс»", "Конаково"),
    ("ООО «Агрофирма Заволжская»", "Тверь"),
]
_SOCIAL_FACILITIES: list[tuple[str, str]] = [
    ("ГБУЗ «Ржевская центральная районная больница»", "Ржев"),
    ("МОУ «Средняя общеобразовательная школа № 3» г. Торжка", "Торжок"),
    ("ГБУ «Кимрский дом-интернат для престарелых и инвалидов»", "Кимры"),
    ("МДОУ «Детский сад № 12» г. Конаково", "Конаково"),
]
_MOBILE_PREFIXES = ["904", "905", "910", "915", "919", "920", "930", "952", "960", "980"]

# extension, full name, support line, skills; branch operators answer only the overflow queue
_OPERATORS: list[tuple[str, str, int, dict[str, int]]] = [
    ("101", "Смирнова Ольга Викторовна", 1, {"outages": 9, "power_quality": 7, "contacts": 8}),
    ("102", "Кузнецов Андрей Сергеевич", 1, {"outages": 7, "power_quality": 9, "contacts": 6}),
    ("103", "Попова Елена Николаевна", 1, {"outages": 6, "power_quality": 5, "contacts": 9}),
    ("104", "Волков Дмитрий Александрович", 1, {"outages": 8, "power_quality": 6, "contacts": 7}),
    ("105", "Лебедева Марина Юрьевна", 1, {"outages": 5, "power_quality": 4, "contacts": 6}),
    ("106", "Морозов Павел Игоревич", 2, {"grid_connection": 9, "metering": 6, "services": 7}),
    ("107", "Фёдорова Ирина Олеговна", 2, {"grid_connection": 6, "metering": 9, "services": 5}),
    ("108", "Никитин Сергей Петрович", 2, {"grid_connection": 7, "metering": 7, "services": 9}),
    ("109", "Егорова Татьяна Владимировна", 3, {"legal": 9, "billing": 7}),
    ("110", "Орлов Виктор Николаевич", 3, {"technical": 9, "grid_connection": 8}),
    ("111", "Соловьёва Анна Дмитриевна", 1, {"outages": 7, "contacts": 6}),
    ("112", "Григорьев Олег Васильевич", 1, {"outages": 6, "contacts": 7}),
]
_BRANCH_EXTENSIONS = {"111", "112"}

# name, support line, description, overflow
_QUEUES: list[tuple[str, int | None, str, bool]] = [
    ("line1", 1, "1-я линия: отключения и качество электроэнергии, контакты, коммутация", False),
    ("line2", 2, "2-я линия: технологическое присоединение, учёт, дополнительные услуги", False),
    ("line3", 3, "3-я линия: специалисты подразделений (по переводу)", False),
    ("branch-overflow", 1, "Филиальный call-центр (Ржев): приём при перегрузке", True),
]

# code, name, parent code, complaint
_TOPICS: list[tuple[str, str, str | None, bool]] = [
    ("outages", "Отключения электроэнергии", None, False),
    ("outages.planned", "Плановые отключения", "outages", False),
    ("outages.emergency", "Аварийные отключения", "outages", False),
    ("power_quality", "Качество электроэнергии", None, False),
    ("grid", "Технологическое присоединение", None, False),
    ("grid.application", "Подача заявки на присоединение", "grid", False),
    ("grid.status", "Ход исполнения заявки", "grid", False),
    ("metering", "Учёт электроэнергии", None, False),
    ("metering.readings", "Передача показаний", "metering", False),
    ("metering.replacement", "Замена и поверка прибора учёта", "metering", False),
    ("billing", "Расчёты и задолженность", None, False),
    ("services", "Дополнительные услуги", None, False),
    ("contacts", "Контакты подразделений, коммутация", None, False),
    ("complaint", "Жалобы", None, True),
    ("complaint.service", "Жалоба на качество обслуживания", "complaint", True),
    ("complaint.power_quality", "Жалоба на качество электроэнергии", "complaint", True),
    ("feedback", "Отзывы и предложения", None, False),
]

# title, body, tags, support line (None: every line)
_KB: list[tuple[str, str, list[str], int | None]] = [
    (
        "Плановые отключения: как узнать и как сообщаем",
        "О плановых работах сообщаем не позднее чем за 3 дня: на сайте, в автообзвоне и SMS. "
        "Оператор находит населённый пункт абонента и называет время начала и окончания работ. "
        "Если плановое отключение затягивается дольше объявленного, регистрируем обращение.",
        ["отключения", "плановые работы"],
        1,
    ),
    (
        "Аварийное отключение: порядок действий оператора",
        "Уточните адрес и с какого времени нет света, есть ли свет у соседей. Проверьте, нет ли "
        "уже зарегистрированной аварии в населённом пункте. Если нет, зарегистрируйте обращение и "
        "передайте в диспетчерскую службу РЭС. Для социальных объектов (больницы, школы) "
        "отметьте приоритет.",
        ["отключения", "авария", "диспетчер"],
        1,
    ),
    (
        "Качество электроэнергии: пониженное напряжение",
        "Допустимое отклонение напряжения — ±10 % от 230 В. Попросите абонента описать признаки "
        "(мигание ламп, не запускается техника), время и продолжительность. Зарегистрируйте "
        "обращение с темой «Качество электроэнергии»; замер проводит служба РЭС.",
        ["напряжение", "качество"],
        1,
    ),
    (
        "Передача показаний счётчика",
        "Показания принимаются с 15 по 25 число месяца: через голосовое меню (набором цифр или "
        "голосом), у оператора, в личном кабинете. Показания передаются целыми киловатт-часами, "
        "для двухтарифного счётчика — отдельно день и ночь.",
        ["показания", "счётчик", "учёт"],
        2,
    ),
    (
        "Замена и поверка прибора учёта",
        "Срок поверки указан в паспорте счётчика. С 2022 года замену прибора учёта у граждан "
        "выполняет сетевая организация без оплаты. Оформите заявку, укажите тип счётчика и "
        "дату последней поверки.",
        ["счётчик", "поверка", "замена"],
        2,
    ),
    (
        "Технологическое присоединение до 15 кВт",
        "Для граждан: заявка через личный кабинет или ЦОК, срок выполнения мероприятий — до "
        "4 месяцев (в городе). Плата за присоединение зависит от мощности и расстояния до "
        "сетей. Статус заявки можно узнать в голосовом меню по номеру заявки.",
        ["присоединение", "заявка", "мощность"],
        2,
    ),
    (
        "Документы для заявки на присоединение",
        "Паспорт, документ на земельный участок или дом, план расположения энергопринимающих "
        "устройств. Для юридических лиц — также выписка ЕГРЮЛ и доверенность представителя.",
        ["присоединение", "документы"],
        2,
    ),
    (
        "Задолженность и ограничение режима потребления",
        "При долге более двух месяцев направляется уведомление не менее чем за 20 дней до "
        "ограничения. Назовите сумму долга и способы оплаты; после оплаты подача возобновляется "
        "в течение 24 часов. Социальные объекты не отключаются без согласования.",
        ["долг", "оплата", "ограничение"],
        None,
    ),
    (
        "Способы оплаты электроэнергии",
        "Оплата по номеру лицевого счёта: в личном кабинете, в банковском приложении, в "
        "отделениях почты, в кассах ЦОК. Оплата отражается на счёте в течение 3 рабочих дней.",
        ["оплата", "лицевой счёт"],
        None,
    ),
    (
        "Сроки рассмотрения обращений и жалоб",
        "Регистрация и передача исполнителю — в течение 1 дня. Ответ — в течение 10 дней, "
        "срок может быть продлён ещё на 10 дней, но не более 21 дня всего. Жалоба — 14 дней. "
        "Если ответ не известен сразу, обещаем перезвонить в течение 30 минут.",
        ["обращение", "жалоба", "сроки"],
        None,
    ),
    (
        "Дополнительные услуги",
        "Опломбировка прибора учёта, перенос счётчика, монтаж вводного кабеля, испытания "
        "электроустановок. Стоимость — по прейскуранту; заявка принимается на 2-й линии.",
        ["услуги", "прейскурант"],
        2,
    ),
    (
        "Контакты районных электрических сетей и ЦОК",
        "Телефоны диспетчерских служб РЭС и центров обслуживания клиентов — в корпоративном "
        "справочнике. Переводите абонента на специалиста, если вопрос требует выезда на место.",
        ["контакты", "РЭС", "ЦОК"],
        1,
    ),
    (
        "Личный кабинет клиента",
        "Регистрация по номеру лицевого счёта и телефону. В кабинете: показания, оплата, "
        "заявки на присоединение, история обращений. Пароль восстанавливается по SMS.",
        ["личный кабинет", "сайт"],
        None,
    ),
    (
        "Социальные объекты: приоритет при авариях",
        "Больницы, школы, детские сады и дома-интернаты — объекты первой категории внимания. "
        "При их обращении об отключении сразу сообщите дежурному диспетчеру и отметьте приоритет "
        "обращения.",
        ["социальный объект", "авария", "приоритет"],
        1,
    ),
    (
        "Перерасчёт платы",
        "Перерасчёт выполняется при ошибке в показаниях, при неисправности прибора учёта и при "
        "перерывах электроснабжения сверх допустимых. Примите заявление, укажите период и "
        "причину; ответ — в течение 10 дней.",
        ["перерасчёт", "оплата"],
        None,
    ),
]

# name, department, position, phone, extension, e-mail
_CORPORATE: list[tuple[str, str, str, str | None, str | None, str | None]] = [
    ("Дежурный диспетчер", "Диспетчерская служба Тверского РЭС", "Диспетчер",
     "+74822345601", "501", "dispatch.tver@example.ru"),
    ("Белов Игорь Викторович", "Отдел технологического присоединения", "Начальник отдела",
     "+74822345610", "510", "belov@example.ru"),
    ("Медведева Светлана Павловна", "Служба учёта электроэнергии", "Ведущий инженер",
     "+74822345620", "520", "medvedeva@example.ru"),
    ("Ковалёв Андрей Юрьевич", "Юридический отдел", "Юрисконсульт",
     "+74822345630", "530", "kovalev@example.ru"),
    ("Кузьмина Галина Петровна", "Отдел расчётов с потребителями", "Главный специалист",
     "+74822345640", "540", "kuzmina@example.ru"),
    ("Приёмная директора филиала", "Дирекция", "Секретарь",
     "+74822345600", "500", "office@example.ru"),
    ("ЦОК Ржев", "Центр обслуживания клиентов", "Дежурный специалист",
     "+74823223344", "601", "cok.rzhev@example.ru"),
    ("ЦОК Торжок", "Центр обслуживания клиентов", "Дежурный специалист",
     "+74825123344", "602", "cok.torzhok@example.ru"),
    ("Дежурный диспетчер", "Диспетчерская служба Кимрского РЭС", "Диспетчер",
     "+74823623344", "603", None),
]  # fmt: skip

_SURVEY_NAME = "Удовлетворённость обслуживанием"
_SURVEY_QUESTIONS: list[tuple[str, dict[str, str]]] = [
    (
        "Решён ли ваш вопрос? Если да, нажмите 1. Если нет, нажмите 2.",
        {"1": "Да", "2": "Нет"},
    ),
    (
        "Оцените вежливость оператора от 1 до 5, где 5 — отлично.",
        {str(n): str(n) for n in range(1, 6)},
    ),
    (
        "Порекомендуете ли вы наш контакт-центр знакомым? 1 — да, 2 — нет, 3 — затрудняюсь.",
        {"1": "Да", "2": "Нет", "3": "Затрудняюсь ответить"},
    ),
]


def _e164(national: str) -> str | None:
    number = phonenumbers.parse(f"+7{national}", None)
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _random_phone(rng: random.Random, area_code: str, taken: set[str]) -> str:
    while True:
        if rng.random() < 0.6:
            national = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"
        else:
            local_digits = 10 - len(area_code)
            national = (
                area_code
                + str(rng.randint(2, 7))
                + "".join(str(rng.randrange(10)) for _ in range(local_digits - 1))
            )
        phone = _e164(national)
        if phone is not None and phone not in taken:
            taken.add(phone)
            return phone


def _person_name(rng: random.Random) -> str:
    surname = rng.choice(_SURNAMES)
    male, female = rng.choice(_PATRONYMICS)
    if rng.random() < 0.5:
        return f"{surname} {rng.choice(_MALE_NAMES)} {male}"
    return f"{surname}а {rng.choice(_FEMALE_NAMES)} {female}"


def _address(rng: random.Random, locality: str, *, flat: bool) -> str:
    town = f"г. {locality}"
    house = f"{rng.choice(_STREETS)}, д. {rng.randint(1, 120)}"
    if flat:
        return f"{REGION}, {town}, {house}, кв. {rng.randint(1, 180)}"
    return f"{REGION}, {town}, {house}"


async def _seed_localities(session: AsyncSession) -> list[Locality]:
    return [
        await localities_repo.create(session, name=name, region=REGION)
        for name, _code in _LOCALITIES
    ]


async def _seed_customers(
    session: AsyncSession, rng: random.Random, localities: list[Locality]
) -> int:
    taken = {DEMO_CUSTOMER_PHONE}
    await customers_repo.create(
        session,
        account_number=DEMO_CUSTOMER_ACCOUNT,
        full_name="Соколова Анна Михайловна",
        category=CustomerCategory.INDIVIDUAL,
        phones=[DEMO_CUSTOMER_PHONE],
        address=f"{REGION}, г. Тверь, ул. Советская, д. 15, кв. 42",
        locality_id=localities[0].id,
        email="sokolova.a@example.ru",
        balance_kopecks=184_550,
    )
    towns = [name for name, _code in _LOCALITIES]
    kinds = (
        [(CustomerCategory.LEGAL_ENTITY, name, town) for name, town in _LEGAL_ENTITIES]
        + [(CustomerCategory.SOCIAL_FACILITY, name, town) for name, town in _SOCIAL_FACILITIES]
        + [(CustomerCategory.INDIVIDUAL, "", "") for _ in range(47)]
    )
    rng.shuffle(kinds)
    for n, (category, org_name, org_town) in enumerate(kinds, start=2):
        loc_index = towns.index(org_town) if org_town else rng.randrange(len(localities))
        locality = localities[loc_index]
        area_code = _LOCALITIES[loc_index][1]
        phones = [_random_phone(rng, area_code, taken)]
        if rng.random() < 0.25:
            phones.append(_random_phone(rng, area_code, taken))
        if category is CustomerCategory.INDIVIDUAL:
            full_name = _person_name(rng)
            balance = rng.choice([0, 0, 0, rng.randint(5_000, 450_000), -rng.randint(100, 9_000)])
            email = None
        else:
            full_name = org_name
            balance = rng.choice([0, rng.randint(100_000, 25_000_000)])
            email = f"info{n}@example.ru"
        await customers_repo.create(
            session,
            account_number=f"69{loc_index + 1:02d}{n:06d}",
            full_name=full_name,
            category=category,
            phones=phones,
            address=_address(
                rng, locality.name, flat=category is CustomerCategory.INDIVIDUAL and n % 3 != 0
            ),
            locality_id=locality.id,
            email=email,
            balance_kopecks=balance,
        )
    return 1 + len(kinds)


async def _seed_staff(session: AsyncSession) -> tuple[int, int, int]:
    """Operators, their logins, the supervisor and the queues; returns the three counts."""
    # argon2 is deliberately slow: off the event loop, and once per password
    operator_hash, supervisor_hash = await asyncio.gather(
        asyncio.to_thread(hash_password, OPERATOR_PASSWORD),
        asyncio.to_thread(hash_password, SUPERVISOR_PASSWORD),
    )
    by_line: dict[int, list[int]] = {1: [], 2: [], 3: []}
    branch: list[int] = []
    for extension, full_name, line, skills in _OPERATORS:
        operator = await operators_repo.create(
            session, extension=extension, full_name=full_name, support_line=line, skills=skills
        )
        await users_repo.create(
            session,
            username=f"operator{extension}",
            password_hash=operator_hash,
            role=Role.OPERATOR,
            full_name=full_name,
            operator_id=operator.id,
        )
        (branch if extension in _BRANCH_EXTENSIONS else by_line[line]).append(operator.id)
    await users_repo.create(
        session,
        username=SUPERVISOR_USERNAME,
        password_hash=supervisor_hash,
        role=Role.SUPERVISOR,
        full_name="Виноградова Людмила Сергеевна",
    )
    for name, queue_line, description, overflow in _QUEUES:
        queue = await queues_repo.create(
            session,
            name=name,
            support_line=queue_line,
            description=description,
            is_overflow=overflow,
            strategy=QueueStrategy.RRMEMORY if overflow else QueueStrategy.LEASTRECENT,
        )
        members = branch if overflow else by_line[queue_line or 1]
        for operator_id in members:
            await queues_repo.add_member(session, queue, operator_id)
        if name == "line1":
            # line 2 helps line 1 when it is swamped, after line 1's own operators
            for operator_id in by_line[2]:
                await queues_repo.add_member(session, queue, operator_id, penalty=5)
    return len(_OPERATORS), len(_OPERATORS) + 1, len(_QUEUES)


def _msk_day_at(now: datetime, days: int, hour: int) -> datetime:
    local = now.astimezone(MSK) + timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0).astimezone(UTC)


async def _seed_outages(session: AsyncSession, now: datetime, localities: list[Locality]) -> int:
    by_name = {loc.name: loc.id for loc in localities}
    hour = now.replace(minute=0, second=0, microsecond=0)
    outages = [
        (
            "Тверь",
            OutageKind.PLANNED,
            _msk_day_at(now, 1, 9),
            _msk_day_at(now, 1, 17),
            "Плановый ремонт ТП-214",
            "ул. Советская, дома с 1 по 40; ул. Школьная полностью",
        ),
        (
            "Ржев",
            OutageKind.EMERGENCY,
            hour - timedelta(hours=2),
            hour + timedelta(hours=3),
            "Повреждение кабельной линии 10 кВ",
            "Центральная часть города; аварийная бригада на месте",
        ),
        (
            "Торжок",
            OutageKind.PLANNED,
            _msk_day_at(now, 3, 10),
            _msk_day_at(now, 3, 15),
            "Замена опор ВЛ 0,4 кВ",
            "ул. Мира и пер. Южный",
        ),
        (
            "Кимры",
            OutageKind.EMERGENCY,
            hour - timedelta(minutes=40),
            None,
            "Отключение линии после грозы",
            "Район ул. Гагарина; время восстановления уточняется",
        ),
        (
            "Конаково",
            OutageKind.PLANNED,
            _msk_day_at(now, -1, 9),
            _msk_day_at(now, -1, 13),
            "Техническое обслуживание ТП-7",
            "ул. Набережная (работы завершены)",
        ),
        (
            "Вышний Волочёк",
            OutageKind.PLANNED,
            _msk_day_at(now, 5, 8),
            _msk_day_at(now, 5, 12),
            "Подключение нового потребителя",
            "ул. Заводская, дома 2-18",
        ),
    ]
    for town, kind, starts_at, ends_at, reason, description in outages:
        await outages_repo.add(
            session,
            locality_id=by_name[town],
            kind=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            description_ru=description,
        )
    return len(outages)


async def _seed_grid_applications(session: AsyncSession, rng: random.Random, now: datetime) -> int:
    owner = await customers_repo.find_by_account(session, DEMO_CUSTOMER_ACCOUNT)
    statuses = list(GridApplicationStatus)
    details = {
        GridApplicationStatus.CONTRACT_SENT: "Договор направлен в личный кабинет, ожидает подписи",
        GridApplicationStatus.IN_PROGRESS: "Выполняется строительство ВЛ 0,4 кВ до границы участка",
    }
    count = 10
    for n in range(count):
        status = statuses[n % len(statuses)]
        submitted = now - timedelta(days=rng.randint(3, 120), hours=rng.randint(0, 23))
        session.add(
            GridApplication(
                number=f"{now.year % 100:02d}{n + 101:05d}",
                customer_id=owner.id if owner is not None and n == 0 else None,
                status=status,
                status_text_ru=details.get(status, STATUS_TEXT_RU[status]),
                submitted_at=submitted,
                updated_at=min(now, submitted + timedelta(days=rng.randint(1, 3))),
            )
        )
    await session.flush()
    return count


# call scripts the workstation walks with the caller; answers go into the appeal's params
_SCRIPTS: list[tuple[str, dict[str, object]]] = [
    (
        "Нет электроэнергии",
        {
            "start": "reason",
            "nodes": {
                "reason": {
                    "text": "Что случилось: света нет совсем или напряжение низкое?",
                    "param": "reason",
                    "options": [
                        {"value": "no_power", "label": "Света нет", "next": "since"},
                        {"value": "low_voltage", "label": "Низкое напряжение", "next": "since"},
                        {"value": "neighbours", "label": "Нет только у соседей", "next": None},
                    ],
                },
                "since": {
                    "text": "С какого времени?",
                    "param": "outage_since",
                    "next": "address",
                },
                "address": {
                    "text": "Уточните адрес: населённый пункт, улица, дом.",
                    "param": "address",
                    "next": None,
                },
            },
        },
    ),
    (
        "Передача показаний",
        {
            "start": "account",
            "nodes": {
                "account": {
                    "text": "Назовите номер лицевого счёта.",
                    "param": "account_number",
                    "next": "reading",
                },
                "reading": {
                    "text": "Назовите показания счётчика (целые киловатт-часы).",
                    "param": "meter_reading",
                    "next": None,
                },
            },
        },
    ),
]


async def _seed_reference(session: AsyncSession, now: datetime) -> tuple[int, int, int, int]:
    """Knowledge base, appeal topics, corporate address book, survey, call scripts."""
    for title, body, tags, line in _KB:
        await kb_repo.create(
            session, title=title, body=body, tags=tags, support_line=line, updated_at=now
        )
    topics: dict[str, AppealTopic] = {}
    for code, name, parent, complaint in _TOPICS:
        topic = AppealTopic(
            code=code,
            name=name,
            parent_id=topics[parent].id if parent else None,
            is_complaint=complaint,
        )
        session.add(topic)
        await session.flush()
        topics[code] = topic
    for name, department, position, phone, extension, email in _CORPORATE:
        session.add(
            CorporateContact(
                name=name,
                department=department,
                position=position,
                phone=phone,
                extension=extension,
                email=email,
            )
        )
    session.add(
        Survey(
            name=_SURVEY_NAME,
            description="Короткий опрос после обращения: решён ли вопрос, вежливость, рекомендация",
            questions=[
                SurveyQuestion(position=i, text_ru=text, answers=answers)
                for i, (text, answers) in enumerate(_SURVEY_QUESTIONS, start=1)
            ],
        )
    )
    for script_name, tree in _SCRIPTS:
        session.add(CallScript(name=script_name, tree=tree, updated_at=now))
    await session.flush()
    return len(_KB), len(_TOPICS), len(_CORPORATE), 1


async def seed_demo(
    session_factory: SessionFactory, *, now: datetime, if_empty: bool
) -> SeedReport:
    """Fill a migrated database with the demo data set, in one transaction.

    With `if_empty`, a database that already has customers is left alone (skipped=True).
    Without it, the demo set must not be there yet (DemoDataPresentError); other data may be.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rng = random.Random(_RANDOM_SEED)
    async with session_factory() as session, session.begin():
        if if_empty and await customers_repo.count(session) > 0:
            return SeedReport(skipped=True)
        if await customers_repo.find_by_account(session, DEMO_CUSTOMER_ACCOUNT) is not None:
            raise DemoDataPresentError(
                f"demo data is already in the database (account {DEMO_CUSTOMER_ACCOUNT})"
            )
        localities = await _seed_localities(session)
        customer_count = await _seed_customers(session, rng, localities)
        operator_count, user_count, queue_count = await _seed_staff(session)
        outage_count = await _seed_outages(session, now, localities)
        grid_count = await _seed_grid_applications(session, rng, now)
        kb_count, topic_count, corporate_count, survey_count = await _seed_reference(session, now)
    return SeedReport(
        localities=len(localities),
        customers=customer_count,
        operators=operator_count,
        users=user_count,
        queues=queue_count,
        outages=outage_count,
        grid_applications=grid_count,
        kb_articles=kb_count,
        appeal_topics=topic_count,
        corporate_contacts=corporate_count,
        surveys=survey_count,
    )
