"""The scale-out path (docs/scaling.md): executor chosen by environment, and the local services
(PostgreSQL, Redis, Celery workers, MLflow server) that `make scale-demo` and the `scale` test start.
Importing this package is cheap; dagster-celery and the service code load only when asked for."""
