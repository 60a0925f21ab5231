"""Recording rules: which calls are recorded, how long they are kept, when they are archived."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callcenter.domain.calls import Direction
from callcenter.domain.recording_rules import (
    DEFAULT_RETENTION_DAYS,
    CallFacts,
    RecordingPolicy,
    RecordingRule,
    RecordingRuleError,
    due_for_archiving,
    due_for_deletion,
    policy_from_mapping,
)

START = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

POLICY = RecordingPolicy(
    rules=(
        RecordingRule(name="survey-campaign", campaign_ids=frozenset({7}), record=False),
        RecordingRule(name="complaints", queues=frozenset({"line3"}), retention_days=1825),
        RecordingRule(
            name="outbound",
            direction=Direction.OUTBOUND,
            retention_days=90,
            archive_after_days=7,
        ),
    ),
    default_retention_days=365,
    default_archive_after_days=30,
)


@pytest.mark.parametrize(
    ("facts", "record", "rule", "retention"),
    [
        (CallFacts(Direction.INBOUND, "line1"), True, "default", 365),
        (CallFacts(Direction.INBOUND, "line3"), True, "complaints", 1825),
        (CallFacts(Direction.OUTBOUND, None), True, "outbound", 90),
        # the first matching rule wins: a survey call is outbound too, but is not recorded
        (CallFacts(Direction.OUTBOUND, None, campaign_id=7), False, "survey-campaign", 365),
        (CallFacts(Direction.OUTBOUND, None, campaign_id=8), True, "outbound", 90),
    ],
)
def test_the_first_matching_rule_decides(
    facts: CallFacts, record: bool, rule: str, retention: int
) -> None:
    decision = POLICY.decide(facts)
    assert (decision.record, decision.rule_name, decision.retention_days) == (
        record,
        rule,
        retention,
    )
    assert POLICY.should_record(facts) is record
    assert decision.delete_after(START) == START + timedelta(days=retention)


def test_every_call_is_recorded_by_default() -> None:
    decision = RecordingPolicy().decide(CallFacts(Direction.INTERNAL))
    assert decision.record
    assert decision.retention_days == DEFAULT_RETENTION_DAYS


def test_a_policy_can_record_only_what_its_rules_name() -> None:
    policy = RecordingPolicy(
        rules=(RecordingRule(name="line1", queues=frozenset({"line1"})),), record_unmatched=False
    )
    assert policy.should_record(CallFacts(Direction.INBOUND, "line1"))
    assert not policy.should_record(CallFacts(Direction.INBOUND, "line2"))


def test_archive_and_deletion_ages_follow_the_rule() -> None:
    outbound = POLICY.for_rule("outbound")
    assert not due_for_archiving(outbound, START, START + timedelta(days=6, hours=23))
    assert due_for_archiving(outbound, START, START + timedelta(days=7))
    default = POLICY.for_rule("default")
    assert not due_for_archiving(default, START, START + timedelta(days=29))
    assert POLICY.shortest_archive_after_days() == 7
    assert not due_for_deletion(None, START)
    assert not due_for_deletion(START, START - timedelta(seconds=1))
    assert due_for_deletion(START, START)


def test_a_removed_rule_falls_back_to_the_defaults_but_keeps_its_name() -> None:
    decision = POLICY.for_rule("retired-rule")
    assert decision.rule_name == "retired-rule"
    assert decision.retention_days == 365


def test_policy_from_configuration() -> None:
    policy = policy_from_mapping(
        {
            "default_retention_days": 1000,
            "rules": [
                {"name": "line3", "queues": ["line3"], "retention_days": 1825},
                {"name": "surveys", "campaigns": [7], "record": False},
                {"name": "out", "direction": "outbound", "archive_after_days": 3},
            ],
        }
    )
    assert policy.decide(CallFacts(Direction.INBOUND, "line3")).retention_days == 1825
    assert not policy.should_record(CallFacts(Direction.OUTBOUND, campaign_id=7))
    assert policy.decide(CallFacts(Direction.OUTBOUND)).archive_after_days == 3
    assert policy.decide(CallFacts(Direction.INBOUND)).retention_days == 1000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": [{"name": "x", "direction": "sideways"}]}, "direction must be one of"),
        ({"rules": [{"name": "x", "retention_days": 0}]}, "retention_days"),
        ({"rules": [{"name": "x", "retention_days": "ten"}]}, "retention_days"),
        ({"rules": [{"name": "x", "queues": "line1"}]}, "queues must be a list"),
        ({"rules": [{"name": "x", "campaigns": [True]}]}, "campaigns must be a list"),
        ({"rules": [{"name": "x"}, {"name": "x"}]}, "used twice"),
        ({"rules": [{"name": "default"}]}, "reserved"),
        ({"rules": [{"queues": ["line1"]}]}, "needs a name"),
        ({"rules": [{"name": "x", "colour": "red"}]}, "unknown keys colour"),
        ({"retention": 5}, "unknown policy keys"),
        ({"rules": "all"}, "expected a list"),
        ({"record_unmatched": "yes"}, "record_unmatched"),
        ({"default_retention_days": -1}, "default_retention_days"),
    ],
)
def test_bad_configuration_names_the_mistake(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RecordingRuleError, match=message):
        policy_from_mapping(data)
