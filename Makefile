# The project's commands. Each creates the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# PyTorch's version, pinned for development and CI; the package itself
# accepts a range (setup.cfg). The pin names a version, not a build: which
# build pip installs is up to this machine's pip configuration (from PyPI on
# Linux, the CUDA build, gigabytes with its nvidia-* wheels; from an index or
# a wheel folder that holds the CPU build, that one).
TORCH_PIN := torch==2.13.0

.PHONY: demo test test-fast test-oldest install lint speed benchmarks-quick docs clean

# The package and its requirements (numpy, scipy, scikit-learn, skorch,
# tqdm, PyTorch): all that the demo imports.
$(VENV)/installed-core: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -e .
	touch $@

# The test extra (pytest, pandas, matplotlib, hypothesis, dask, ray), on top
# of the above: what the tests, the benchmarks and the docs build on.
$(VENV)/installed: $(VENV)/installed-core setup.cfg
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/installed

# The linter (setup.cfg's "lint" extra), on top of the above.
$(VENV)/installed-lint: $(VENV)/installed setup.cfg
	$(PY) -m pip install --quiet -e ".[lint]"
	touch $@

# Style: ruff's checks named in pyproject.toml, lines of 88 characters.
lint: $(VENV)/installed-lint
	$(PY) -m ruff check .

# The documentation's tools (setup.cfg's "docs" extra), on top of the above.
$(VENV)/installed-docs: $(VENV)/installed setup.cfg
	$(PY) -m pip install --quiet -e ".[docs]"
	touch $@

# The benchmarks' data sets (setup.cfg's "benchmarks" extra), on top of the above.
$(VENV)/installed-benchmarks: $(VENV)/installed setup.cfg
	$(PY) -m pip install --quiet -e ".[benchmarks]"
	touch $@

demo: $(VENV)/installed-core
	$(PY) examples/digits_demo.py

test: install
	$(PY) -m pytest

# The quicker lane (about 5 minutes on 2 cores, against 6 for make test):
# without the full-size trainings, the clusters and the many-sample
# statistical checks.
test-fast: install
	$(PY) -m pytest -m "not slow and not distributed and not statistical"

# The oldest versions setup.cfg claims, in a second environment: the
# constraints file pins every floor of install_requires and of the test extra
# exactly (torch included: 2.4 has no CPU-only wheel on PyPI, so this installs
# the CUDA build with its nvidia-* and triton wheels, 2.8 GB). Runs the fast tests.
OLDEST_VENV := .venv-oldest
OLDEST_PY := $(OLDEST_VENV)/bin/python
OLDEST_PINS := requirements/oldest.txt

$(OLDEST_VENV)/installed: setup.cfg pyproject.toml $(OLDEST_PINS)
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_PY) -m pip install --quiet --upgrade pip
	$(OLDEST_PY) -m pip install --quiet -c $(OLDEST_PINS) torch
	$(OLDEST_PY) -m pip install --quiet -c $(OLDEST_PINS) -e ".[test]"
	touch $@

test-oldest: $(OLDEST_VENV)/installed
	$(OLDEST_PY) -m pytest -m "not slow"

speed: install
	$(PY) benchmarks/speed.py

# Smoke runs (--quick) of the papers' experiments (docs/paper), of the
# imputation benchmark and of the GPU check on the CPU; each writes *_quick
# results, which are git-ignored and never shown in the docs.
QUICK_BENCHMARKS := $(sort $(wildcard benchmarks/paper_*.py)) benchmarks/mae.py \
	benchmarks/imputation.py benchmarks/small_data.py benchmarks/out_of_core.py

benchmarks-quick: $(VENV)/installed-benchmarks
	for script in $(QUICK_BENCHMARKS); do \
		echo "== $$script --quick"; $(PY) $$script --quick || exit 1; \
	done
	@echo "== benchmarks/device_check.py --device cpu --quick"
	$(PY) benchmarks/device_check.py --device cpu --quick
	@echo "== benchmarks/same_numbers.py record, then check (the same code)"
	numbers=$$(mktemp -d) && $(PY) benchmarks/same_numbers.py record $$numbers \
		&& $(PY) benchmarks/same_numbers.py check $$numbers; \
		status=$$?; rm -rf $$numbers; exit $$status

# The documentation site, in docs/_build/html; any warning fails the build.
docs: $(VENV)/installed-docs
	$(PY) -m sphinx -b html -W --keep-going docs docs/_build/html

clean:
	rm -rf $(VENV) $(OLDEST_VENV) build *.egg-info docs/_build docs/auto_examples docs/generated
