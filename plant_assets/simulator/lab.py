"""Lab samples of the simulated plants: a few samples per production run, each characteristic drawn from a
normal process (mean, sd) per product, written as the plant's lab_results export, with the sample statistics
as ground truth.

Samples come from their own random stream per line ("lab", line), so adding lab data never moves the draws of
the other signals. The truth is computed from the values exactly as the pipeline reads them (written with
`decimals`, converted to the spec's unit with the same pint scale/offset), so sample statistics can match
exactly; the process mean/sd and the process Cpk are in the truth too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from plant_assets.core.plant_config import PlantConfig
from plant_assets.core.units import conversion_to
from plant_assets.simulator.clock import MINUTE_MS, Clock
from plant_assets.simulator.lab_profile import LabProfile
from plant_assets.simulator.timefmt import format_datetimes
from plant_assets.simulator.writers import Written, write_text

LAB_TRUTH_COLUMNS = [
    "plant_id", "production_date", "line_id", "product_code", "characteristic", "unit", "lsl", "target", "usl",
    "samples", "mean", "sd", "out_of_spec", "out_of_spec_share", "cp", "cpk",
    "process_mean", "process_sd", "process_cpk",
]  # fmt: skip


def _labels(plant: PlantConfig) -> dict[str, str]:
    """Characteristic -> the lab's own label (the first key of characteristic_map mapping to it)."""
    labels = {s.characteristic: s.characteristic for s in plant.quality_specs}
    for label, name in reversed(list(plant.lab_results.characteristic_map.items())):
        labels[name] = label
    return labels


def _sample_minutes(runs: pd.DataFrame, every: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(run row, minute) of each sample: the first at a random offset into the run, then every `every` min."""
    out = []
    for i, run in runs.iterrows():
        first = int(run.start_min) + int(rng.integers(0, every))
        out.extend((i, m) for m in range(first, int(run.end_min), every))
    return out


def simulate_lab(
    plant: PlantConfig,
    lab: LabProfile | None,
    clock: Clock,
    runs: pd.DataFrame,
    rng_for: Callable[..., np.random.Generator],
    out_dir: Path,
) -> tuple[list[Written], pd.DataFrame]:
    """Write one lab_results file per local day; return the files and the per-group truth."""
    if lab is None or plant.lab_results is None:
        if lab is not None:
            raise ValueError(f"{plant.plant_id}: simulation.lab needs a lab_results export section")
        return [], pd.DataFrame(columns=LAB_TRUTH_COLUMNS)
    specs = {(s.product, s.characteristic): s for s in plant.quality_specs}
    for product, chars in lab.process.items():
        for name in chars:
            if (product, name) not in specs:
                raise ValueError(f"{plant.plant_id}: simulation.lab.process.{product}.{name} has no quality_specs")
    labels = _labels(plant)
    rows = []
    for line in plant.lines:
        line_runs = runs[runs["line_id"] == line.id]
        rng = rng_for("lab", line.id)
        for i, minute in _sample_minutes(line_runs, lab.sample_every_min, rng):
            run = line_runs.loc[i]
            for name, process in lab.process.get(run.product_code, {}).items():
                spec = specs[(run.product_code, name)]
                unit = lab.report_units.get(name, spec.unit)
                scale, offset = conversion_to(spec.unit, unit)
                reported = round(float(rng.normal(process.mean, process.sd)) * scale + offset, lab.decimals)
                rows.append((line.id, minute, run.order_id, run.product_code, name, unit, reported))
    samples = pd.DataFrame(
        rows, columns=["line_id", "minute", "order_id", "product_code", "characteristic", "reported_unit",
                       "reported_value"]  # fmt: skip
    )
    samples = samples.sort_values(["minute", "line_id"], kind="stable").reset_index(drop=True)
    samples["day"] = clock.day[samples["minute"].to_numpy()] if len(samples) else np.zeros(0, dtype=np.int32)
    # One sample id per (line, minute): every characteristic of a sample shares it.
    sample_keys = samples[["line_id", "minute"]].drop_duplicates()
    ids = {
        (r.line_id, r.minute): lab.sample_id_format.format(seq=k + 1, line=r.line_id)
        for k, r in enumerate(sample_keys.itertuples(index=False))
    }
    samples["sample_id"] = [ids[(r.line_id, r.minute)] for r in samples.itertuples(index=False)]
    written = _write(plant, clock, samples, labels, lab.decimals, out_dir)
    return written, _truth(plant, clock, samples, specs, lab)


def _write(
    plant: PlantConfig, clock: Clock, samples: pd.DataFrame, labels: dict[str, str], decimals: int, out_dir: Path
) -> list[Written]:
    export = plant.lab_results
    ms = int(clock.utc_ms[0]) + samples["minute"].to_numpy(dtype=np.int64) * MINUTE_MS
    if export.timestamps_in == "utc":
        naive = ms.astype("datetime64[ms]")
    else:
        index = pd.to_datetime(ms, unit="ms", utc=True).tz_convert(clock.tz).tz_localize(None)
        naive = index.to_numpy().astype("datetime64[ms]")
    values = [f"{v:.{decimals}f}" for v in samples["reported_value"]]
    if export.decimal == ",":
        values = [v.replace(".", ",") for v in values]
    canonical = {
        "sample_id": samples["sample_id"].to_numpy(),
        "order_id": samples["order_id"].to_numpy(),
        "line_id": samples["line_id"].to_numpy(),
        "product_code": samples["product_code"].to_numpy(),
        "characteristic": samples["characteristic"].map(labels).to_numpy(),
        "value": np.array(values, dtype=object),
        "unit": samples["reported_unit"].to_numpy(),
        "sampled_at": format_datetimes(naive, export.timestamp_format).astype(object),
    }
    frame = pd.DataFrame({local: canonical[key] for key, local in export.columns.items()})
    written = []
    for d in range(clock.days):
        path = out_dir / export.file_pattern.format(date=clock.date_of(d))
        part = frame[samples["day"].to_numpy() == d]
        write_text(path, part.to_csv(index=False, sep=export.delimiter, lineterminator="\n"))
        written.append(Written(path, len(part), len(part)))
    return written


def _truth(plant: PlantConfig, clock: Clock, samples: pd.DataFrame, specs: dict, lab: LabProfile) -> pd.DataFrame:
    """Sample statistics per plant-day, line, product and characteristic, on the values as ingest reads them."""
    rows = []
    for (day, line_id, product, name), group in samples.groupby(
        ["day", "line_id", "product_code", "characteristic"], sort=True
    ):
        spec = specs[(product, name)]
        scale, offset = conversion_to(group["reported_unit"].iloc[0], spec.unit)
        values = group["reported_value"].to_numpy() * scale + offset
        n = len(values)
        mean = float(values.mean())
        sd = float(values.std(ddof=1)) if n > 1 else math.nan
        out = int(((values < spec.lsl) | (values > spec.usl)).sum())
        process = lab.process[product][name]
        rows.append(
            {
                "plant_id": plant.plant_id, "production_date": clock.date_of(int(day)).isoformat(),
                "line_id": line_id, "product_code": product, "characteristic": name, "unit": spec.unit,
                "lsl": spec.lsl, "target": spec.target, "usl": spec.usl, "samples": n, "mean": mean, "sd": sd,
                "out_of_spec": out, "out_of_spec_share": out / n,
                "cp": (spec.usl - spec.lsl) / (6 * sd) if sd > 0 else math.nan,
                "cpk": min(spec.usl - mean, mean - spec.lsl) / (3 * sd) if sd > 0 else math.nan,
                "process_mean": process.mean, "process_sd": process.sd,
                "process_cpk": min(spec.usl - process.mean, process.mean - spec.lsl) / (3 * process.sd),
            }
        )  # fmt: skip
    return pd.DataFrame(rows, columns=LAB_TRUTH_COLUMNS)


def write_lab_truth(truth_dir: Path, lab_daily: pd.DataFrame) -> list[Path]:
    """truth/lab_daily.csv (header only when no plant simulates lab data)."""
    truth_dir.mkdir(parents=True, exist_ok=True)
    frame = lab_daily if len(lab_daily) else pd.DataFrame(columns=LAB_TRUTH_COLUMNS)
    path = truth_dir / "lab_daily.csv"
    path.write_text(frame.to_csv(index=False, lineterminator="\n"), encoding="utf-8", newline="")
    return [path]
