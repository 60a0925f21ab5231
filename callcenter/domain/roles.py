"""Who may do what: the three roles of the platform."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Role) -> bool:
        """True when this role holds every right of `other` (admin > supervisor > operator)."""
        return self.rank >= other.rank


_RANK = {Role.OPERATOR: 1, Role.SUPERVISOR: 2, Role.ADMINISTRATOR: 3}
