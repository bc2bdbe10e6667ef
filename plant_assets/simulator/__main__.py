"""Generate the demo exports: `python -m plant_assets.simulator --start 2026-09-07 --days 28 [--seed N]`.

Paths come from plant_assets.core.settings (PLANT_ASSETS_HOME, PLANT_ASSETS_PLANTS): exports go to
`$HOME/landing/<plant_id>/`, the ground truth to `$HOME/truth/`.
"""

from __future__ import annotations

import argparse
import json
from datetime import date

from plant_assets.core.plant_config import load_plants
from plant_assets.core.settings import get_settings
from plant_assets.simulator.engine import simulate_plants


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m plant_assets.simulator", description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 9, 7), help="first local day")
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--seed", type=int, default=None, help="global seed combined with each plant's seed")
    parser.add_argument("--plant", action="append", default=None, help="only these plant ids (repeatable)")
    args = parser.parse_args(argv)
    settings = get_settings()
    plants = load_plants(settings.plants_dir)
    if args.plant:
        plants = {pid: p for pid, p in plants.items() if pid in set(args.plant)}
    summary = simulate_plants(plants, args.start, args.days, settings.landing_dir, settings.truth_dir, args.seed)
    brief = {pid: {k: v for k, v in info.items() if k != "files"} for pid, info in summary["plants"].items()}
    print(json.dumps({**summary, "plants": brief}, indent=2))
    return summary


if __name__ == "__main__":
    main()
