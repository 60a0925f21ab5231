"""Pure rules behind the workstation: who sees whom, call-script trees, the SQLite search
fallback's word matching, questionnaires."""

from __future__ import annotations

import pytest

from callcenter.domain import kb_search
from callcenter.domain.call_scripts import ScriptAnswer, ScriptError, parse_tree, walk
from callcenter.domain.roles import Role
from callcenter.domain.surveys import Question, QuestionnaireError, check_questionnaire
from callcenter.domain.visibility import (
    Viewer,
    appeal_lines_visible,
    can_access_appeal,
    operator_lines_visible,
)

# ---- visibility ----


@pytest.mark.parametrize(
    ("line", "visible"),
    [(1, {1, 2}), (2, {2}), (3, {3}), (None, set())],
)
def test_operator_lines_visible_by_line(line: int | None, visible: set[int]) -> None:
    viewer = Viewer(user_id=1, role=Role.OPERATOR, operator_id=5, support_line=line)
    assert operator_lines_visible(viewer) == visible


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMINISTRATOR])
def test_supervisors_and_admins_watch_every_line(role: Role) -> None:
    viewer = Viewer(user_id=1, role=role)
    assert operator_lines_visible(viewer) == {1, 2, 3}
    assert appeal_lines_visible(viewer) is None


def test_operator_works_on_own_line_own_and_unassigned_appeals() -> None:
    viewer = Viewer(user_id=1, role=Role.OPERATOR, operator_id=5, support_line=1)
    assert can_access_appeal(viewer, owner_operator_id=5, owner_line=1)
    assert can_access_appeal(viewer, owner_operator_id=6, owner_line=1)
    assert can_access_appeal(viewer, owner_operator_id=None, owner_line=None)
    assert not can_access_appeal(viewer, owner_operator_id=7, owner_line=2)


def test_operator_keeps_access_to_appeals_they_own_whatever_the_line() -> None:
    viewer = Viewer(user_id=1, role=Role.OPERATOR, operator_id=5, support_line=1)
    assert can_access_appeal(viewer, owner_operator_id=5, owner_line=2)


# ---- call scripts ----

TREE = {
    "start": "reason",
    "nodes": {
        "reason": {
            "text": "Что случилось?",
            "param": "reason",
            "options": [
                {"value": "no_power", "label": "Нет света", "next": "since"},
                {"value": "other", "label": "Другое"},
            ],
        },
        "since": {"text": "С какого времени?", "param": "outage_since"},
    },
}


def test_walk_collects_parameters_along_the_path() -> None:
    run = walk(
        parse_tree(TREE),
        [ScriptAnswer("reason", "no_power"), ScriptAnswer("since", " с 8 утра ")],
    )
    assert run.params == {"reason": "no_power", "outage_since": "с 8 утра"}
    assert run.path == ["reason", "since"]
    assert run.finished


def test_a_partial_run_says_what_comes_next() -> None:
    run = walk(parse_tree(TREE), [ScriptAnswer("reason", "no_power")])
    assert not run.finished
    assert run.next_node == "since"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([ScriptAnswer("since", "x")], "ожидался ответ на узел «reason»"),
        ([ScriptAnswer("reason", "maybe")], "допустимые ответы — no_power, other"),
        ([ScriptAnswer("reason", "other"), ScriptAnswer("since", "x")], "уже закончился"),
        ([ScriptAnswer("reason", "no_power"), ScriptAnswer("since", "  ")], "пустой ответ"),
    ],
)
def test_walk_refuses_answers_off_the_tree(answers: list[ScriptAnswer], message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        walk(parse_tree(TREE), answers)


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"start": "a", "nodes": {}}, "нет ни одного узла"),
        ({"start": "x", "nodes": {"a": {"text": "?", "param": "p"}}}, "«start»"),
        ({"start": "a", "nodes": {"a": {"text": "?", "param": "p", "next": "b"}}}, "несуществ"),
        (
            {
                "start": "a",
                "nodes": {
                    "a": {"text": "?", "param": "p", "next": "b"},
                    "b": {"text": "?", "param": "q", "next": "a"},
                },
            },
            "зацикливается",
        ),
        (
            {
                "start": "a",
                "nodes": {"a": {"text": "?", "param": "p"}, "b": {"text": "?", "param": "q"}},
            },
            "недостижимы",
        ),
        ({"start": "a", "nodes": {"a": {"text": "", "param": "p"}}}, "«text»"),
        ({"start": "a", "nodes": {"a": {"text": "?", "param": "_script"}}}, "«_»"),
    ],
)
def test_bad_trees_are_refused_with_the_reason(tree: dict[str, object], message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        parse_tree(tree)


def test_diamond_shaped_tree_is_not_a_cycle() -> None:
    tree = {
        "start": "a",
        "nodes": {
            "a": {
                "text": "?",
                "param": "p",
                "options": [
                    {"value": "1", "label": "один", "next": "b"},
                    {"value": "2", "label": "два", "next": "c"},
                ],
            },
            "b": {"text": "?", "param": "q", "next": "d"},
            "c": {"text": "?", "param": "r", "next": "d"},
            "d": {"text": "?", "param": "s"},
        },
    }
    assert set(parse_tree(tree).nodes) == {"a", "b", "c", "d"}


# ---- knowledge-base fallback matching ----


@pytest.mark.parametrize("form", ["счётчик", "Счетчики", "СЧЕТЧИКА", "счётчиком", "счетчиках"])
def test_word_forms_reduce_to_one_stem(form: str) -> None:
    assert kb_search.query_stems(form) == ["счетчик"]


def test_match_needs_every_stem_at_a_word_start() -> None:
    assert kb_search.match(["счетчик"], "Передача показаний счётчика", "") is not None
    assert kb_search.match(["четчик"], "Передача показаний счётчика", "") is None
    assert kb_search.match(["счетчик", "холодильник"], "счётчик", "") is None


def test_title_hits_outrank_body_hits() -> None:
    in_title = kb_search.match(["счетчик"], "Счётчик", "текст")
    in_body = kb_search.match(["счетчик"], "Заголовок", "про счётчик")
    assert in_title is not None
    assert in_body is not None
    assert in_title.score > in_body.score


def test_snippet_starts_near_the_match() -> None:
    body = "Вступление. " * 30 + "Показания счётчика принимаются с 15 по 25 число."
    piece = kb_search.snippet(["счетчик"], body)
    assert "счётчика" in piece
    assert piece.startswith("…")


# ---- questionnaires ----


def test_questionnaire_needs_dtmf_digit_keys() -> None:
    with pytest.raises(QuestionnaireError, match="не клавиша"):
        check_questionnaire("Опрос", [Question("Довольны?", {"1": "Да", "*": "Нет"})])


def test_questionnaire_needs_two_answers_and_a_name() -> None:
    with pytest.raises(QuestionnaireError, match="два варианта"):
        check_questionnaire("Опрос", [Question("Довольны?", {"1": "Да"})])
    with pytest.raises(QuestionnaireError, match="название"):
        check_questionnaire(" ", [Question("Довольны?", {"1": "Да", "2": "Нет"})])
    with pytest.raises(QuestionnaireError, match="нет ни одного вопроса"):
        check_questionnaire("Опрос", [])
