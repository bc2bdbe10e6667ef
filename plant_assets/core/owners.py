"""Who owns what (README: the two-tier operating model). Dagster shows these as each asset's Owners."""

PLANT_TEAMS = "team:plant-teams"  # the local tier: each plant's config, its ingest partitions and its alerts
CENTRAL_TEAM = "team:central-data"  # the central tier: the platform, KPI semantics, templates, model approval
