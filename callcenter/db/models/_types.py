"""Column types and defaults shared by the models, chosen to behave the same on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa

# Enums are stored as plain strings of a fixed width: adding a member then needs no migration
# (no native PostgreSQL enum type, no CHECK list), and the column compares equal on both backends.
ENUM_LENGTH = 32

# PostgreSQL gets a 64-bit key; SQLite only autoincrements a column declared exactly INTEGER.
BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _enum_values(enum_cls: type[StrEnum]) -> list[str]:
    return [member.value for member in enum_cls]


def str_enum(enum_cls: type[StrEnum], length: int = ENUM_LENGTH) -> sa.Enum:
    """A string column holding the *values* of a domain StrEnum, read back as its members."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=_enum_values,
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)
