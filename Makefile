# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Terraform tests mostly wait on subprocesses: more workers than the 2 cores pays off.
TEST_WORKERS ?= 4

.PHONY: demo test check format proto docs bench release constraints clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,emulator]'
	touch $(STAMP)

## demo: emulator + provider + terraform init/apply of examples/demo, then destroy
demo: $(STAMP)
	$(PY) scripts/demo.py

## test: unit, property and end-to-end tests against real Terraform
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

## check: formatting, lint and strict typing
check: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy provider tests scripts benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## proto: regenerate the committed protobuf stubs from proto/
proto: $(STAMP)
	$(PY) scripts/generate_proto.py

## docs: regenerate docs/ from the schemas and examples/
docs: $(STAMP)
	$(PY) scripts/generate_docs.py

## bench: start-up, plan/apply/destroy at N=1,100,1000, CPU, RSS, API requests, emulator
## throughput (ratios against floors in the same run) -> benchmarks/results/latest.{md,json};
## BENCH_ARGS=--quick for a ~2-minute version
bench: $(STAMP)
	$(PY) -m benchmarks.bench $(BENCH_ARGS)

## release: this platform's zip, SHA256SUMS (signed with GPG_KEY=... if given) and mirrors in dist/
release: $(STAMP)
	$(PY) scripts/release.py --dist dist $(if $(GPG_KEY),--gpg-key '$(GPG_KEY)')

## constraints: record the virtualenv's exact versions (after changing dependencies)
constraints: $(STAMP)
	head -n 3 constraints.txt > constraints.txt.new
	$(PY) -m pip freeze --exclude-editable >> constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
