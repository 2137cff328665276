"""Scenario simulator (issue 12): scenario files, validated before any chip runs."""

from openheg_sim.scenario.schema import Scenario, ScenarioError, load_scenario, parse_scenario

__all__ = ["Scenario", "ScenarioError", "load_scenario", "parse_scenario"]
