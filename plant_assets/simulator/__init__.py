"""Demo plant simulator: minute-level line and motor physics exported in each plant's historian dialect.

`simulate_plants(plants, start, days, landing_root, truth_dir, seed=None)` writes, for every plant with a
`simulation:` section in its plant.yaml, one export file per plant-local day into
`plant.landing_path(landing_root)` (historian readings in the plant's dialect, production runs and
downtime events as configured) and the ground truth into `truth_dir`. See docs/simulator.md.

Modules, one job each:
- profile   the `simulation:` section of plant.yaml (pydantic), checked against the plant
- clock     the minute grid in the plant's local calendar (zoneinfo, DST-correct)
- schedule  production orders, changeovers, planned and unplanned stops of a line
- physics   units, scrap, energy and registers of a line; current, vibration, temperature of a motor
- tags      per source tag: unit conversion, resolution, rollover, exception (deadband) sampling
- timefmt   locale-independent vectorized timestamp formatting (strptime formats incl. DuckDB %g)
- writers   one writer per historian dialect, plus the event files
- truth     ground truth files (daily.csv, runs.csv, motor_daily.csv, faults.json)
- engine    simulate_plant / simulate_plants
"""

from plant_assets.simulator.engine import simulate_plant, simulate_plants
from plant_assets.simulator.profile import (
    SimulationProfile,
    SimulationProfileError,
    load_profile,
)

__all__ = ["SimulationProfile", "SimulationProfileError", "load_profile", "simulate_plant", "simulate_plants"]
