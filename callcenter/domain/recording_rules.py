"""Recording rules: which calls are recorded, how long recordings are kept, when they are archived.

A policy is an ordered list of rules; the first rule whose conditions all match a call decides.
A call no rule matches falls to the policy's default (record everything, the platform's promise
to the utility). Every recording remembers the name of the rule that decided it, so a retention
deletion can say which rule destroyed it.

Pure: no I/O, time is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from callcenter.domain.calls import Direction

DEFAULT_RULE_NAME = "default"
# Three years: the general limitation period of Russian civil law (claims about a call can be
# brought that long), a sensible floor for keeping the evidence of what was said.
DEFAULT_RETENTION_DAYS = 1095
DEFAULT_ARCHIVE_AFTER_DAYS = 30
_MAX_DAYS = 36_500


class RecordingRuleError(ValueError):
    """A rule (or a policy read from configuration) is invalid; the message says which and why."""


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the rules may look at: known when the recording starts."""

    direction: Direction
    queue_name: str | None = None
    campaign_id: int | None = None


@dataclass(frozen=True, slots=True)
class RecordingRule:
    """Conditions (all must match; an empty one matches anything) and what follows from them.

    `retention_days` / `archive_after_days` left empty take the policy's defaults.
    """

    name: str
    record: bool = True
    direction: Direction | None = None
    queues: frozenset[str] = frozenset()
    campaign_ids: frozenset[int] = frozenset()
    retention_days: int | None = None
    archive_after_days: int | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip():
            raise RecordingRuleError("a recording rule needs a name")
        if len(self.name) > 64:
            raise RecordingRuleError(f"rule {self.name[:64]!r}...: name longer than 64 characters")
        _check_days(self.name, "retention_days", self.retention_days)
        _check_days(self.name, "archive_after_days", self.archive_after_days)

    def matches(self, facts: CallFacts) -> bool:
        if self.direction is not None and facts.direction != self.direction:
            return False
        if self.queues and facts.queue_name not in self.queues:
            return False
        return not (self.campaign_ids and facts.campaign_id not in self.campaign_ids)


@dataclass(frozen=True, slots=True)
class RecordingDecision:
    record: bool
    rule_name: str
    retention_days: int
    archive_after_days: int

    def delete_after(self, started_at: datetime) -> datetime:
        return started_at + timedelta(days=self.retention_days)

    def archive_after(self, started_at: datetime) -> datetime:
        return started_at + timedelta(days=self.archive_after_days)


@dataclass(frozen=True, slots=True)
class RecordingPolicy:
    rules: tuple[RecordingRule, ...] = ()
    record_unmatched: bool = True
    default_retention_days: int = DEFAULT_RETENTION_DAYS
    default_archive_after_days: int = DEFAULT_ARCHIVE_AFTER_DAYS
    _by_name: Mapping[str, RecordingRule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_days("policy", "default_retention_days", self.default_retention_days)
        _check_days("policy", "default_archive_after_days", self.default_archive_after_days)
        by_name: dict[str, RecordingRule] = {}
        for rule in self.rules:
            if rule.name in by_name or rule.name == DEFAULT_RULE_NAME:
                raise RecordingRuleError(f"rule {rule.name!r}: the name is used twice or reserved")
            by_name[rule.name] = rule
        object.__setattr__(self, "_by_name", by_name)

    def decide(self, facts: CallFacts) -> RecordingDecision:
        """The first matching rule's decision, or the default one."""
        for rule in self.rules:
            if rule.matches(facts):
                return self._decision(rule)
        return RecordingDecision(
            record=self.record_unmatched,
            rule_name=DEFAULT_RULE_NAME,
            retention_days=self.default_retention_days,
            archive_after_days=self.default_archive_after_days,
        )

    def should_record(self, facts: CallFacts) -> bool:
        return self.decide(facts).record

    def for_rule(self, rule_name: str | None) -> RecordingDecision:
        """The decision a rule stands for, by name; unknown or removed rules get the defaults.

        Used for recordings found on disk without a call, and to archive by rule.
        """
        rule = self._by_name.get(rule_name or "")
        if rule is None:
            return RecordingDecision(
                record=True,
                rule_name=rule_name or DEFAULT_RULE_NAME,
                retention_days=self.default_retention_days,
                archive_after_days=self.default_archive_after_days,
            )
        return self._decision(rule)

    def shortest_archive_after_days(self) -> int:
        """The earliest age at which any rule archives: bounds the archive job's query."""
        days = [self.default_archive_after_days]
        days += [r.archive_after_days for r in self.rules if r.archive_after_days is not None]
        return min(days)

    def _decision(self, rule: RecordingRule) -> RecordingDecision:
        return RecordingDecision(
            record=rule.record,
            rule_name=rule.name,
            retention_days=(
                rule.retention_days
                if rule.retention_days is not None
                else self.default_retention_days
            ),
            archive_after_days=(
                rule.archive_after_days
                if rule.archive_after_days is not None
                else self.default_archive_after_days
            ),
        )


def due_for_archiving(decision: RecordingDecision, started_at: datetime, now: datetime) -> bool:
    return now >= decision.archive_after(started_at)


def due_for_deletion(delete_after: datetime | None, now: datetime) -> bool:
    return delete_after is not None and now >= delete_after


def _check_days(owner: str, what: str, days: int | None) -> None:
    if days is None:
        return
    if isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= _MAX_DAYS:
        raise RecordingRuleError(f"{owner}: {what} must be a whole number of days, 1..{_MAX_DAYS}")


_RULE_KEYS = frozenset(
    {
        "name",
        "record",
        "direction",
        "queues",
        "campaigns",
        "retention_days",
        "archive_after_days",
    }
)
_POLICY_KEYS = frozenset(
    {"rules", "record_unmatched", "default_retention_days", "default_archive_after_days"}
)


def policy_from_mapping(data: Mapping[str, Any]) -> RecordingPolicy:
    """Build a policy from configuration data (e.g. parsed YAML), naming the first mistake.

    Shape::

        default_retention_days: 1095
        default_archive_after_days: 30
        record_unmatched: true
        rules:
          - {name: complaints-line, queues: [line3], retention_days: 1825}
          - {name: surveys, campaigns: [7], record: false}
          - {name: outbound, direction: outbound, retention_days: 365}
    """
    unknown = set(data) - _POLICY_KEYS
    if unknown:
        raise RecordingRuleError(f"unknown policy keys: {', '.join(sorted(unknown))}")
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list):
        raise RecordingRuleError("rules: expected a list of rules")
    rules = tuple(_rule_from_mapping(i, raw) for i, raw in enumerate(raw_rules, start=1))
    record_unmatched = data.get("record_unmatched", True)
    if not isinstance(record_unmatched, bool):
        raise RecordingRuleError("record_unmatched: expected true or false")
    return RecordingPolicy(
        rules=rules,
        record_unmatched=record_unmatched,
        default_retention_days=data.get("default_retention_days", DEFAULT_RETENTION_DAYS),
        default_archive_after_days=data.get(
            "default_archive_after_days", DEFAULT_ARCHIVE_AFTER_DAYS
        ),
    )


def _rule_from_mapping(position: int, raw: Any) -> RecordingRule:
    if not isinstance(raw, Mapping):
        raise RecordingRuleError(f"rule #{position}: expected a mapping")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RecordingRuleError(f"rule #{position}: unknown keys {', '.join(sorted(unknown))}")
    name = raw.get("name")
    if not isinstance(name, str):
        raise RecordingRuleError(f"rule #{position}: needs a name")
    direction = raw.get("direction")
    try:
        parsed_direction = Direction(direction) if direction is not None else None
    except ValueError:
        choices = ", ".join(d.value for d in Direction)
        raise RecordingRuleError(f"rule {name!r}: direction must be one of {choices}") from None
    record = raw.get("record", True)
    if not isinstance(record, bool):
        raise RecordingRuleError(f"rule {name!r}: record must be true or false")
    return RecordingRule(
        name=name,
        record=record,
        direction=parsed_direction,
        queues=frozenset(_strings(name, "queues", raw.get("queues"))),
        campaign_ids=frozenset(_ints(name, "campaigns", raw.get("campaigns"))),
        retention_days=raw.get("retention_days"),
        archive_after_days=raw.get("archive_after_days"),
    )


def _strings(rule: str, key: str, value: Any) -> Iterable[str]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RecordingRuleError(f"rule {rule!r}: {key} must be a list of names")
    return value


def _ints(rule: str, key: str, value: Any) -> Iterable[int]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise RecordingRuleError(f"rule {rule!r}: {key} must be a list of ids")
    return value
