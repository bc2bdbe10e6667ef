"""plant.yaml `machine_states`: what each value of a `machine_state` tag means, running, idle or down.

A key is a numeric code (`1: running`) or a text state as the export writes it (`ACTIVE: running`, MTConnect
`execution`), so a text state needs no code table and no Python. The text is matched exactly against the
reading's `status_text` when the reading has no number (a text value, a PI digital state, MTConnect
UNAVAILABLE); a number is matched against the code. A value the map lacks gives no state (the minute is not
observed), never a guess (docs/contracts.md, machine state).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

State = Literal["running", "idle", "down"]
# YAML 1.1 reads these unquoted keys as booleans, so `ON: running` would silently become code 1.
_YAML_BOOLEANS = "ON / OFF / YES / NO / TRUE / FALSE"


def _keys(raw: Any) -> Any:
    """Numbers stay codes (as floats); text is stripped and kept as text; a boolean key is refused."""
    if not isinstance(raw, dict):
        return raw
    out: dict[float | str, Any] = {}
    for key, state in raw.items():
        if isinstance(key, bool):
            raise ValueError(f"machine_states key {key!r} was read as a boolean: quote the text state as the "
                             f"export writes it (e.g. 'ON': running); YAML reads {_YAML_BOOLEANS} unquoted as booleans")
        if isinstance(key, (int, float)):
            out[float(key)] = state
        elif isinstance(key, str) and key.strip():
            out[key.strip()] = state
        else:
            raise ValueError(f"machine_states key {key!r} must be a numeric code or a non-empty text state")
    return out


MachineStates = Annotated[dict[float | str, State], BeforeValidator(_keys)]


def state_rows(machine_states: dict[float | str, str]) -> list[dict[str, Any]]:
    """The registry's rows: {code, text, state}, one of code / text set; codes first in order, then texts."""
    codes = sorted((k, v) for k, v in machine_states.items() if isinstance(k, float))
    texts = sorted((k, v) for k, v in machine_states.items() if isinstance(k, str))
    return ([{"code": k, "text": None, "state": v} for k, v in codes]
            + [{"code": None, "text": k, "state": v} for k, v in texts])
