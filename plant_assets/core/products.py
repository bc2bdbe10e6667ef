"""plant.yaml `products`: what a plant makes, each product in a family the plant names itself.

A family is a free name (`can_12oz`, `heavy`, `pet_bottles`): products of one family are expected to cost
similar energy and scrap alike, and the family is what fct_family_output_hourly, the cross-plant benchmark's
product mix and the quality template group by. No list of allowed names exists anywhere; plants that share a
family name (plant_a's and plant_c's `heavy`) are compared as making the same kind of product.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Lower case, digits, `_` and `-`: safe in SQL literals, file names and MLflow tags, and one spelling per family
# (`Heavy` and `heavy` would silently be two families).
FAMILY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
# A plant that does not group its products: one family holding all of them (what an omitted family means).
DEFAULT_FAMILY = "default"


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    family: str = DEFAULT_FAMILY
    mass_kg: float | None = Field(default=None, gt=0)
    ideal_rate_per_min: float = Field(gt=0)

    @model_validator(mode="after")
    def _family_name(self) -> Product:
        if not re.match(FAMILY_PATTERN, self.family):
            raise ValueError(f"product {self.code!r}: family {self.family!r} must be a lower-case name of letters, "
                             f"digits, '_' or '-' starting with a letter or digit, e.g. can_12oz ({FAMILY_PATTERN})")
        return self
