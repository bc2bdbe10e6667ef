-- The KPI library: definition, formula, unit and grain of every KPI in kpi_daily.
select
    kpi,
    name,
    definition,
    formula,
    unit,
    grain,
    mart
from {{ ref('kpi_catalog') }}
