# plant-assets: `make demo` and `make test` work on a fresh machine with Python 3.11 and make.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STATE := $(CURDIR)/.state

export PLANT_ASSETS_HOME ?= $(STATE)
export DAGSTER_HOME ?= $(STATE)/dagster_home
export PLANT_ASSETS_DAGSTER_STORAGE ?= $(STATE)/dagster_storage
export MLFLOW_TRACKING_URI ?= sqlite:///$(STATE)/mlflow.db
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install demo test test-random test-fast ui dagster-home lock bench clean scale-demo

install: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,scale]'
	$(BIN)/plant-assets dbt-parse
	touch $@

dagster-home:
	@mkdir -p "$(DAGSTER_HOME)" "$(PLANT_ASSETS_DAGSTER_STORAGE)"
	@cp dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"

demo: install dagster-home
	$(BIN)/plant-assets demo

# The whole suite as two pytest processes side by side (2 cores): marker second_process (the tests of the
# session's demo run and a few heavy modules, tests/conftest.py) and every other test. Both print their 20 slowest.
test: install
	@mkdir -p $(STATE); \
	$(BIN)/python -m pytest -q --durations=20 -m second_process -p no:cacheprovider > $(STATE)/test-second-process.log 2>&1 & demo=$$!; \
	$(BIN)/python -m pytest -q --durations=20 -m "not second_process"; rest=$$?; \
	wait $$demo; demo_status=$$?; \
	echo "===== the second process (-m second_process) ====="; cat $(STATE)/test-second-process.log; \
	echo "first process: exit $$rest; second process: exit $$demo_status"; \
	test $$rest -eq 0 -a $$demo_status -eq 0

# The suite in a random order (pytest-randomly). The seed (--randomly-seed) is printed first; `make test-random SEED=N` repeats it.
test-random: install
	@seed=$${SEED:-$$(( (RANDOM << 15) | RANDOM ))}; echo "random order seed $$seed (make test-random SEED=$$seed repeats it)"; \
	$(BIN)/python -m pytest -q -p randomly --randomly-seed=$$seed --durations=20 || \
	  { status=$$?; echo "random order seed $$seed failed (make test-random SEED=$$seed repeats it)"; exit $$status; }

# The inner loop: unit and integration tests, without the e2e pipeline, the browser or the scale and concurrency
# tests, in two processes (pytest-xdist; a module stays in one process, so its fixtures are built once).
test-fast: install
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -p no:cacheprovider -m "not e2e and not browser and not scale" --durations=10

ui: install dagster-home
	@echo "Dagster UI: http://127.0.0.1:3000   MLflow UI: http://127.0.0.1:5000   (Ctrl-C stops both)"
	@trap 'kill 0' EXIT; \
	$(BIN)/mlflow ui --backend-store-uri "$(MLFLOW_TRACKING_URI)" --host 127.0.0.1 --port 5000 & \
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The scale-out path (docs/scaling.md): PostgreSQL and redis-server from Debian, on 127.0.0.1.
scale-demo: install
	@command -v redis-server >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { echo "scale-demo needs Debian's postgresql and redis-server: apt-get install -y postgresql redis-server"; exit 1; }
	@mkdir -p "$(STATE)"
	$(BIN)/python -m plant_assets.scaleout check --days $${SCALE_DAYS:-3} --workers $${SCALE_WORKERS:-2} --out "$(STATE)/scale-demo.json"

bench: install
	$(BIN)/python -m bench

lock: $(BIN)/.installed
	$(BIN)/pip freeze --exclude-editable | grep -v '^plant-assets' > constraints.txt

clean:
	rm -rf .state dbt_project/target dbt_project/logs
