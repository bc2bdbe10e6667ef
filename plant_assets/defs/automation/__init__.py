"""Automation: the jobs users launch and the schedules and sensors the daemon runs."""

import dagster as dg

from plant_assets.defs.automation import jobs, recovery_sensor, schedules, sensors

defs = dg.load_definitions_from_modules([jobs, schedules, sensors, recovery_sensor])
