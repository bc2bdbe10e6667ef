"""plant-assets: one industrial data and ML use case, rolled out across many plants by configuration."""

import warnings

# We use partitioned asset checks and single-run backfill policies on purpose; Dagster flags both as
# beta/preview at every definition load, which buries real warnings.
warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview).*")
