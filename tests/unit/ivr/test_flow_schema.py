"""The flow schema and the standard's rules: what `flows check` accepts and what it rejects."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.domain.ivr_schema import (
    COMMON_PROMPTS,
    FlowInvalid,
    FlowIssue,
    fill_template,
    parse_flow,
    shape_of,
)
from callcenter.speech.prompts import collect_flow_prompts
from tests.unit.ivr.support import (
    MAIN_FLOW_FILE,
    QUEUES,
    chain_of_menus,
    main_document,
    main_flow,
    menu,
    operator,
    small_document,
)


def issues_of(document: dict[str, Any], **kwargs: Any) -> list[FlowIssue]:
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(document, **({"known_queues": QUEUES} | kwargs))
    return caught.value.issues


def problems(document: dict[str, Any]) -> list[str]:
    return [str(issue) for issue in issues_of(document)]


def test_the_shipped_flow_keeps_the_standard() -> None:
    flow = main_flow()
    levels = shape_of(flow)[0].levels
    assert levels["main"] == 1
    assert max(levels.values()) == 4  # it uses every level the standard allows
    assert set(levels) == set(flow.nodes)  # every node reachable
    main = flow.nodes["main"]
    assert main.type == "menu"
    assert sorted(main.options) == ["1", "2", "3", "4"]
    assert (flow.keys.back, flow.keys.root, flow.keys.operator) == ("*", "#", "0")


def test_the_shipped_flow_greets_and_gives_the_recording_notice() -> None:
    flow = main_flow()
    assert "Здравствуйте" in flow.greeting_prompt
    assert "записыва" in flow.notice_prompt
    assert flow.notice_version


def test_a_menu_with_five_options_is_rejected_naming_the_node() -> None:
    options = {str(k): "op" for k in range(1, 6)}
    found = problems(small_document({"main": menu("Выбор.", options), "op": operator()}))
    assert any("node 'main'" in p and "5 choices" in p and "at most 4" in p for p in found), found


def test_four_menu_levels_pass_and_five_are_rejected() -> None:
    parse_flow(small_document(chain_of_menus(4)), known_queues=QUEUES)  # operator on level 5
    found = problems(small_document(chain_of_menus(5)))
    assert found == [
        "node 'm5': is on level 5; the standard allows 4 menu levels with the operator as level 5",
        "node 'op': is on level 6; the standard allows 4 menu levels with the operator as level 5",
    ]


def test_self_service_below_the_fourth_level_is_rejected() -> None:
    nodes = chain_of_menus(4)
    nodes["m4"]["options"]["2"] = "info"
    nodes["info"] = {"type": "info", "prompt": "Справка."}
    found = problems(small_document(nodes))
    assert found == [
        "node 'info': is on level 5; the standard allows 4 menu levels with the operator as level 5"
    ]


def test_every_node_must_be_reachable() -> None:
    nodes = {"main": menu("Выбор.", {"1": "op"}), "op": operator(), "lost": operator()}
    assert problems(small_document(nodes)) == [
        "node 'lost': not reachable from the start menu 'main'"
    ]


def test_names_must_exist_nodes_queues_and_types() -> None:
    nodes = {"main": menu("Выбор.", {"1": "op", "2": "odd"}), "op": operator(), "odd": {}}
    nodes["odd"] = {"type": "teleport", "prompt": "?"}
    found = problems(small_document(nodes))
    assert found == [
        "node 'odd': unknown node type; the types are: menu, operator, info, meter_reading, "
        "application_status, outages, balance, voicemail, callback"
    ]
    # once the schema passes, the names it uses are checked
    nodes = {"main": menu("Выбор.", {"1": "nowhere", "2": "op"}), "op": operator("line9")}
    assert problems(small_document(nodes)) == [
        "node 'main': option 1: there is no node 'nowhere'",
        "node 'op': queue: no queue 'line9' (known: branch-overflow, line1, line2, line3)",
    ]


def test_queues_are_not_checked_without_a_list() -> None:
    nodes = {"main": menu("Выбор.", {"1": "op"}), "op": operator("anything")}
    assert parse_flow(small_document(nodes), known_queues=None).nodes["op"].queue == "anything"


def test_every_prompt_a_node_says_must_exist() -> None:
    document = small_document(
        {"main": menu("Выбор.", {"1": "mail"}), "mail": {"type": "voicemail"}}
    )
    del document["prompts"]["goodbye_prompt"]
    found = problems(document)
    for key in ("record_prompt", "voicemail_saved_prompt", "voicemail_empty_prompt"):
        assert f"node 'mail': needs {key}: write it on the node or under the flow's prompts:" in (
            found
        )
    assert (
        "node 'main': needs goodbye_prompt: write it on the node or under the flow's prompts:"
        in (found)
    )


def test_templates_may_only_use_the_fields_known_where_they_are_said() -> None:
    nodes = {
        "main": menu("Выбор {value}.", {"1": "bal"}),
        "bal": {
            "type": "balance",
            "account_prompt": "Счёт?",
            "account_not_found_prompt": "Нет.",
            "debt_prompt": "Долг {amount} по счёту {acount}.",
            "no_debt_prompt": "Долга нет.",
        },
    }
    found = problems(small_document(nodes))
    assert "node 'main': nodes.main.prompt uses {value}; fields known there: none" in found
    assert (
        "node 'bal': nodes.bal.debt_prompt uses {acount}; fields known there: {account}, {amount}"
        in found
    )


def test_menus_may_not_loop_and_options_may_not_point_at_the_root() -> None:
    nodes = {
        "main": menu("Выбор.", {"1": "a"}),
        "a": menu("А.", {"1": "b"}),
        "b": menu("Б.", {"1": "a", "2": "main"}),
    }
    found = problems(small_document(nodes))
    assert "node 'a': menus loop (a -> b -> a); use the root or back key instead" in found
    assert "node 'b': option 2 leads to the root menu; the # key does that" in found


def test_option_keys_are_single_digits_not_taken_by_navigation() -> None:
    nodes = {"main": menu("Выбор.", {"0": "op", "*": "op", "12": "op"}), "op": operator()}
    found = problems(small_document(nodes))
    assert "node 'main': options: key '0' is taken by the back/root/operator keys" in found
    assert "node 'main': options: key '*' must be one digit 0-9" in found
    assert "node 'main': options: key '12' must be one digit 0-9" in found


def test_the_operator_key_is_configurable_per_flow() -> None:
    document = small_document({"main": menu("Выбор.", {"0": "op"}), "op": operator()})
    document["keys"] = {"operator": "9"}
    assert parse_flow(document, known_queues=QUEUES).keys.operator == "9"
    document["keys"] = {"operator": None}
    assert parse_flow(document, known_queues=QUEUES).keys.operator is None
    document["keys"] = {"operator": "*"}
    assert any("must differ" in p for p in problems(document))


def test_schema_errors_name_the_node_and_the_field() -> None:
    nodes = {"main": menu("Выбор.", {"1": "op"}), "op": operator(priority=500, colour="red")}
    found = problems(small_document(nodes))
    assert "node 'op': priority: Input should be less than or equal to 100" in found
    assert "node 'op': colour: Extra inputs are not permitted" in found


def test_the_start_must_be_a_menu_and_shared_prompt_names_must_be_used() -> None:
    document = small_document({"main": operator()}, start="main")
    document["prompts"]["greting_prompt"] = "опечатка"
    found = problems(document)
    assert "node 'main': the start node must be a menu" in found
    assert "prompts.greting_prompt: no node of this flow says a prompt by that name" in found


def test_a_flow_file_that_is_not_a_mapping_is_rejected() -> None:
    with pytest.raises(FlowInvalid, match="must be a mapping"):
        parse_flow(["main"])


def test_fill_template_fills_names_only() -> None:
    assert fill_template("Долг {amount}.", {"amount": "сто рублей"}) == "Долг сто рублей."
    assert fill_template("{x.__class__} {y}", {"y": "да"}) == "{x.__class__} да"


def test_the_shipped_flow_keeps_the_prompt_contract_of_prompts_build() -> None:
    """`callcenter prompts build` renders exactly what the flow says (speech/prompts.py)."""
    found = {(p.where, p.text) for p in collect_flow_prompts(MAIN_FLOW_FILE.parent)}
    flow = main_flow()
    said = {(where, text) for _, where, text in flow.all_prompts()}
    assert said <= found
    # everything else `prompts build` finds is a YAML anchor copy of a text the flow says
    assert {text for _, text in found} == {text for _, text in said}


def test_common_prompts_are_all_in_the_shipped_flow() -> None:
    document = main_document()
    assert set(COMMON_PROMPTS) <= set(document["prompts"])
