# The two commands: `make demo` runs the nightly pipeline end to end on generated sample data,
# `make test` runs the whole test suite. Both need only Python >= 3.11 on the machine.
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: demo test test-fast test-repeat env clean

demo: env
	$(UV) run --locked lienthong run

# pytest exits 5 when it collected no tests: say so, and do not fail.
PYTEST = rc=0; $(UV) run --locked pytest $(1) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

# A worker per core (pytest-xdist; at most 4), a file to a worker at a time (tests/conftest.py), the files
# in collection order (faults and integration, the slow ones, first); the slowest tests listed at the end.
XDIST = -n auto --maxprocesses 4 --no-loadscope-reorder --durations 25

test: env
	@$(call PYTEST,$(XDIST))

# The developer's loop: everything but real DAG runs (`airflow`) and other multi-minute tests (`slow`).
test-fast: env
	@$(call PYTEST,$(XDIST) -m "not slow and not airflow")

# Rerun the process-, time- and scheduler-sensitive tests N times in one session:
# `make test-repeat N=20`, `make test-repeat N=20 M="timing and not slow"`, `make test-repeat K=stop`.
N ?= 5
M ?= timing
K ?=
test-repeat: env
	@$(call PYTEST,--count $(N) -m "$(M)" $(if $(K),-k "$(K)"))

# Bytecode compiled at install: where the environment forbids writing it (PYTHONDONTWRITEBYTECODE),
# every process would otherwise compile Airflow, GX and dbt from source (3.5 s a start, docs/warehouse.md).
env: $(UV)
	$(UV) sync --locked --compile-bytecode

# No uv on the machine: install a pinned one into a project-local tools venv (no root needed).
.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

clean:
	-$(UV) run lienthong db stop
	rm -rf .lienthong output dbt_project/target dbt_project/logs
