"""Scenario files: bundled ones load, bad ones are refused with a readable reason."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from callcenter.sim.callers import KeyPress
from callcenter.sim.parties import Outcome
from callcenter.sim.scenarios import ScenarioError, bundled, load_scenario, parse_scenario


def test_bundled_scenarios_all_load() -> None:
    assert {"demo", "smoke", "outage-storm"} <= set(bundled())
    for name in bundled():
        scenario = load_scenario(name)
        assert scenario.callers


def test_demo_is_gentle() -> None:
    demo = load_scenario("demo")
    # a newcomer sees calls within seconds, yet the few operators are never swamped
    assert 1 <= demo.arrivals.per_minute <= 6
    assert {group.queue for group in demo.operators} >= {"line1", "line2"}


def test_caller_profiles_become_scripts() -> None:
    scenario = parse_scenario(
        """
        name: t
        callers:
          - {name: keys, keys: "2,12#", every: 3, speech: [2.5], patience: {mean: 60, spread: 0}}
          - {name: listed, keys: [{after: 1.5, digits: "1"}], hangup_after: 9}
          - {name: pulse, pulse: true}
        called_parties: {human: 1}
        """
    )
    rng = random.Random(1)
    first = scenario.callers[0].script("+79160000000", rng)
    assert list(first.keys) == [KeyPress(3, "2"), KeyPress(3, "12#")]
    assert first.patience == 60
    assert list(first.speech) == [2.5]
    second = scenario.callers[1].script("+79160000000", rng)
    assert list(second.keys) == [KeyPress(1.5, "1")]
    assert second.hangup_after == 9
    assert scenario.callers[2].script("x", rng).pulse
    assert scenario.called_party(rng).outcome is Outcome.HUMAN


def test_caller_scripts_compile_to_the_lab_style_dialplan() -> None:
    scenario = parse_scenario(
        "name: t\ncallers: [{name: a, keys: '1,2', every: 2, hangup_after: 20}]"
    )
    ext = scenario.callers[0].script("+7", random.Random(0)).extension()
    assert [(s.app, s.data) for s in ext.steps] == [
        ("NoOp", "caller presses 1 2"),
        ("Answer", ""),
        ("Wait", "2"),
        ("SendDTMF", "1"),
        ("Wait", "2"),
        ("SendDTMF", "2"),
        ("Wait", "15.098"),
        ("Hangup", ""),
    ]
    assert ext.priority_of("hangup") == 8


def test_numbers_and_arrivals_are_reproducible_with_a_seed() -> None:
    scenario = load_scenario("smoke")
    first = [scenario.pick_number(random.Random(3)) for _ in range(3)]
    assert first == [scenario.pick_number(random.Random(3)) for _ in range(3)]
    assert all((len(n) == 12 and n.startswith("+7")) or len(n) == 11 for n in first)
    poisson = parse_scenario("name: p\narrivals: {per_minute: 6}\ncallers: [{name: a}]")
    gaps = [poisson.arrivals.gaps(random.Random(i)) for i in range(400)]
    assert 8 < sum(gaps) / len(gaps) < 12  # mean 10 s


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\ncallers: []", "callers"),
        ("name: x\ncallers: [{name: a, keys: '1,x'}]", "not DTMF digits"),
        ("name: x\ncallers: [{name: a}]\narrivals: {per_minute: 0}", "per_minute"),
        ("name: x\ncallers: [{name: a, colour: red}]", "colour"),
        ("- just a list", "mapping"),
        ("name: [unclosed", "not valid YAML"),
    ],
)
def test_invalid_scenarios_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(text, "bad.yaml")


def test_unknown_names_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no bundled scenario"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match=r"missing\.yaml"):
        load_scenario(tmp_path / "missing.yaml")
