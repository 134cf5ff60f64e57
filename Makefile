# The two commands: `make demo` runs the nightly pipeline end to end on generated sample data,
# `make test` runs the whole test suite. Both need only Python >= 3.11 on the machine.
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: demo test env clean

demo: env
	$(UV) run --locked lienthong run

test: env
	$(UV) run --locked pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

env: $(UV)
	$(UV) sync --locked

# No uv on the machine: install a pinned one into a project-local tools venv (no root needed).
.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

clean:
	-$(UV) run lienthong db stop
	rm -rf .lienthong output dbt_project/target dbt_project/logs
