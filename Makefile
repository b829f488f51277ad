# hopcap: every command a user or CI needs. Only python3 (>= 3.10) is required beforehand:
# the first target that needs them creates .venv and installs hopcap into it, with the dependency
# versions CI tested (constraints.txt); make test-latest tries the newest ones in .venv-latest.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= quick
RESULTS ?= results
#: the pinned versions: empty (make test-latest) installs the newest releases the metadata allows
CONSTRAINTS ?= constraints.txt
STAMP := $(VENV)/.installed
PYTEST := $(BIN)/python -m pytest -q

#: the study profiles make reproduce runs after capacity_cli/configs/$(PROFILE).csv; each writes results/<profile>/
STUDY_PROFILES := structured modern rf kernel learning census separation curves dynamics predict

.PHONY: install test test-slow test-all test-latest check-results redraw lock lint bench reproduce \
	timings clean help

help:
	@echo "make test        install (.venv, pinned versions from constraints.txt) and run the fast suite"
	@echo "make test-slow   the statistical tests marked slow; make test-all: both (CI runs both)"
	@echo "make test-latest the whole suite against the newest releases, in .venv-latest"
	@echo "make reproduce   run capacity_cli/configs/$(PROFILE).csv and every study profile below, draw every figure"
	@echo "                 (prints an estimate first, from the times recorded in results/ or else the"
	@echo "                 shipped table capacity_cli/configs/timings.csv; recorded trials are never"
	@echo "                 measured again;"
	@echo "                 PROFILE=full: larger N; make reproduce-full: that batch alone)"
	@echo "make check-results  read every committed results file back; no profile may have a pending trial"
	@echo "make redraw      make reproduce's drawing and summaries over recorded results, measuring nothing"
	@echo "make lock        regenerate constraints.txt from the newest releases"
	@echo "make timings     rewrite capacity_cli/configs/timings.csv from the committed results/"
	@echo "make reproduce-<profile>    one study profile: $(STUDY_PROFILES)"
	@echo "   structured: capacity against separation and feature correlation"
	@echo "   modern:     the softmax family and the field rule (results/modern/)"
	@echo "   rf:         the random-feature DAM against its exact model (results/rf/)"
	@echo "   learning:   pairwise networks with learned couplings (results/learning/)"
	@echo "   census:     attractor census: what the binary models settle into (results/census/)"
	@echo "   separation: capacity against the distance of error-correcting-code sets (results/separation/)"
	@echo "   kernel:     learned feature maps (U-Hop+) against the plain model (results/kernel/)"
	@echo "   curves:     retrieval curves and energy traces of the Hebbian network (results/curves/)"
	@echo "   dynamics:   update schemes, temperature and the AGS retrieval line (results/dynamics/)"
	@echo "   predict:    hopcap predict against every committed stable measurement (results/predict/)"
	@echo "make bench       numba kernels against numpy baselines"
	@echo "make lint        ruff"

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# the fast suite (every kernel keeps a naive-twin test here); the statistical ones are marked slow
test: $(STAMP)
	$(PYTEST) -m "not slow" tests

test-slow: $(STAMP)
	$(PYTEST) -m slow tests

test-all: $(STAMP)
	$(PYTEST) tests

# the whole suite against the newest releases (no constraints), in its own environment, resolved anew
test-latest:
	rm -rf .venv-latest
	$(MAKE) test-all VENV=.venv-latest CONSTRAINTS=

# every committed file read back by the readers make reproduce uses; no profile has a pending trial
check-results: $(STAMP)
	$(BIN)/python -m capacity_cli.reproduce --check --results $(RESULTS)

# make reproduce's drawing and summarising over recorded results: refuses to measure anything
redraw: $(STAMP)
	for p in $(PROFILE) $(STUDY_PROFILES); do \
		$(BIN)/python -m capacity_cli.reproduce --profile $$p --results $(RESULTS) --no-measure \
			--no-progress || exit 1; \
	done

# constraints.txt from a fresh resolve of the newest releases (then run make test-all and commit)
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet '.[test]'
	{ echo "# The versions make install uses (tested by CI); make lock regenerates this file."; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^hopcap'; } > $(CONSTRAINTS)
	rm -rf .venv-lock

lint: $(STAMP)
	$(BIN)/ruff check capacity_cli tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/softmax_bench.py
	$(BIN)/python benchmarks/rf_bench.py
	$(BIN)/python benchmarks/pairwise_bench.py
	$(BIN)/python benchmarks/census_bench.py
	$(BIN)/python benchmarks/kernel_bench.py
	$(BIN)/python benchmarks/predict_bench.py
	$(BIN)/python benchmarks/curve_bench.py
	$(BIN)/python benchmarks/dynamics_bench.py
	$(BIN)/python benchmarks/startup_bench.py
	$(BIN)/python benchmarks/pruning_bench.py

reproduce: $(STAMP)
	$(BIN)/python -m capacity_cli.reproduce --estimate $(PROFILE) $(STUDY_PROFILES) --results $(RESULTS)
	for p in $(PROFILE) $(STUDY_PROFILES); do \
		$(BIN)/python -m capacity_cli.reproduce --profile $$p --results $(RESULTS) || exit 1; \
	done

# the timing table behind the estimate, from results/ (after a new reproduction: see capacity_cli/timing.py)
timings: $(STAMP)
	$(BIN)/python -m capacity_cli.reproduce --save-timings --results results

# make reproduce-<profile>: one study profile (structured, modern, ...)
reproduce-%: $(STAMP)
	$(BIN)/python -m capacity_cli.reproduce --profile $* --results $(RESULTS)

clean:
	rm -rf $(VENV) .venv-latest build *.egg-info .pytest_cache .ruff_cache
