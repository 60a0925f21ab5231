"""Who on the workstation may see whose work: the object-level rules (pure).

Supervisors and administrators see every line: the data model does not tie a supervisor to
particular lines, so "their lines" are all lines until it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.domain.roles import Role

SUPPORT_LINES = frozenset({1, 2, 3})

# Table 9, function 15: line 1 watches lines 1 and 2, line 2 watches line 2. The standard
# says nothing of line 3 (specialists of other departments, reached by transfer); they watch
# their own line, which is whom they hand calls to among themselves.
OPERATOR_STATE_VISIBILITY: dict[int, frozenset[int]] = {
    1: frozenset({1, 2}),
    2: frozenset({2}),
    3: frozenset({3}),
}


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user as the rules see them."""

    user_id: int
    role: Role
    operator_id: int | None = None
    support_line: int | None = None

    @property
    def sees_all_lines(self) -> bool:
        return self.role.at_least(Role.SUPERVISOR)


def operator_lines_visible(viewer: Viewer) -> frozenset[int]:
    """Support lines whose operators' states the viewer may watch."""
    if viewer.sees_all_lines:
        return SUPPORT_LINES
    if viewer.support_line is None:
        return frozenset()
    return OPERATOR_STATE_VISIBILITY.get(viewer.support_line, frozenset())


def appeal_lines_visible(viewer: Viewer) -> frozenset[int] | None:
    """Lines whose appeals the viewer may read and change; None means every line."""
    if viewer.sees_all_lines:
        return None
    if viewer.support_line is None:
        return frozenset()
    return frozenset({viewer.support_line})


def can_access_appeal(
    viewer: Viewer, *, owner_operator_id: int | None, owner_line: int | None
) -> bool:
    """May the viewer read and work on an appeal owned by that operator (of that line)?

    An operator works on appeals they own, appeals owned by colleagues on their own line, and
    unassigned appeals (voicemail, IVR callbacks, web) which anyone may take.
    """
    if viewer.sees_all_lines or owner_operator_id is None:
        return True
    if viewer.operator_id is not None and owner_operator_id == viewer.operator_id:
        return True
    lines = appeal_lines_visible(viewer)
    return lines is None or (owner_line is not None and owner_line in lines)
