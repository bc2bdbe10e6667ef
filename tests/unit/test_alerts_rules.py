"""The alert rule registry (one module per rule in operations/alerts/rules/, found without a list) and the rules
without a test file of their own: failed data-quality gates and energy intensity, evaluated end to end through
`raise_and_resolve` on a small warehouse."""

from __future__ import annotations

import json
import pkgutil
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from plant_assets.operations.alerts import rules as rules_package
from plant_assets.operations.alerts.evaluation import raise_and_resolve
from plant_assets.operations.alerts.rules import RULES, rules_for
from plant_assets.operations.alerts.rules.base import (
    ENERGY,
    OPERATIONAL,
    AlertRule,
    RuleInputs,
)
from plant_assets.operations.alerts.store import list_alerts

D0 = date(2026, 9, 9)


@pytest.fixture
def con():
    connection = duckdb.connect(":memory:")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def plants():
    from plant_assets.core.plant_config import load_plants
    from tests.conftest import REPO_ROOT

    return {"plant_a": load_plants(REPO_ROOT / "plants")["plant_a"]}


def test_every_rule_module_is_registered_once_under_its_kind():
    modules = sorted(m.name for m in pkgutil.iter_modules(rules_package.__path__) if m.name != "base")
    assert [rule.name for rule in RULES] == modules
    assert all(isinstance(rule, AlertRule) for rule in RULES)
    # Which nightly asset evaluates which rule: energy_alerts right after scoring, operational_alerts the rest.
    assert [rule.name for rule in rules_for(ENERGY)] == ["energy_intensity"]
    assert {"motor_health", "quality_drift", "data_quality"} <= {rule.name for rule in rules_for(OPERATIONAL)}


def test_a_failed_gate_raises_one_alert_for_the_data_team_that_resolves_once_gates_pass(con, plants):
    gates = [rule for rule in RULES if rule.name == "data_quality"]
    plant = plants["plant_a"]
    days = [D0 + timedelta(days=i) for i in range(4)]
    counts, raised = raise_and_resolve(RuleInputs(con, plants, days[0], days[1], failed_gates={("plant_a", d) for d in days[:2]},
                                                  checked_gates={("plant_a", d) for d in days[:2]}), gates)
    assert counts == {"new": 1, "escalated": 0, "updated": 1, "resolved": 0} and len(raised) == 2
    alert = list_alerts(con).iloc[0]
    assert (alert["kind"], alert["owner_role"], alert["asset_path"]) == ("data_quality", "central_data_team", plant.isa95_path())
    assert "gates docs" in alert["recommended_action"]
    for day in days[2:]:
        counts, _ = raise_and_resolve(RuleInputs(con, plants, day, day, checked_gates={("plant_a", day)}), gates)
    assert counts["resolved"] == 1 and plant.alerting.auto_resolve_days == 2
    assert list_alerts(con).iloc[0]["resolution_reason"].startswith("data-quality gates passed")


def test_energy_intensity_raises_a_daily_alert_above_tolerance_with_the_drivers(con, plants):
    from plant_assets.operations.actions_tables import ENERGY_PERFORMANCE, replace_days

    tolerance = plants["plant_a"].alerting.energy_tolerance
    drivers = json.dumps([{"text": "outdoor temperature = 31.0 raised the expectation"}])
    performance = pd.DataFrame({
        "plant_id": "plant_a", "production_date": [D0, D0 + timedelta(days=1), D0 + timedelta(days=2)],
        "actual_kwh": [1100.0, 1300.0, 1000.0], "expected_kwh": 1000.0, "units_produced": 100.0,
        "actual_kwh_per_unit": [11.0, 13.0, 10.0], "expected_kwh_per_unit": 10.0,
        "deviation": [0.1 * tolerance, 3 * tolerance, 0.0], "tolerance": tolerance,
        "model_name": "energy_baseline.plant_a", "model_version": "4", "top_drivers": drivers,
    })
    replace_days(con, ENERGY_PERFORMANCE, performance, D0, D0 + timedelta(days=2))
    counts, _ = raise_and_resolve(RuleInputs(con, plants, D0, D0 + timedelta(days=2)), rules_for(ENERGY))
    assert counts == {"new": 1, "escalated": 0, "updated": 0, "resolved": 0}
    alert = list_alerts(con).iloc[0]
    assert (alert["kind"], alert["severity"], alert["owner_role"]) == ("energy_intensity", "critical", "energy")
    assert pd.Timestamp(alert["production_date"]).date() == D0 + timedelta(days=1)
    assert alert["explanation"] == "outdoor temperature = 31.0 raised the expectation"
    assert json.loads(alert["evidence"])["deviation"] == round(3 * tolerance, 4)
