"""Quality stage: the blocking Great Expectations gates on ingested plant-days and on the KPI mart."""

import dagster as dg

from plant_assets.defs.quality.checks import exports_are_fresh, historian_gates, marts_kpi_gate

defs = dg.Definitions(asset_checks=[historian_gates, marts_kpi_gate, exports_are_fresh])
