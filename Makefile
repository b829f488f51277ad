# hopcap: every command a user or CI needs. Only python3 (>= 3.10) is required beforehand:
# the first target that needs them creates .venv and installs hopcap into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= quick
STAMP := $(VENV)/.installed

#: the study profiles make reproduce runs after capacity_cli/configs/$(PROFILE).csv; each writes results/<profile>/
STUDY_PROFILES := structured modern rf kernel learning census separation curves dynamics predict

.PHONY: install test lint bench reproduce timings clean help

help:
	@echo "make test        install (.venv) and run the test suite"
	@echo "make reproduce   run capacity_cli/configs/$(PROFILE).csv and every study profile below, draw every figure"
	@echo "                 (prints an estimate first: times recorded in results/, else the shipped table"
	@echo "                 capacity_cli/configs/timings.csv; measured: 13 min 42 s in all on 2 idle cores"
	@echo "                 from a fresh clone, quick 4 min 53 s, 55 min on a loaded machine;"
	@echo "                 PROFILE=full: larger N, its batch 72 min; make reproduce-full: that batch alone)"
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

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

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
	$(BIN)/python -m capacity_cli.reproduce --estimate $(PROFILE) $(STUDY_PROFILES) --results results
	$(BIN)/python -m capacity_cli.reproduce --profile $(PROFILE) --results results
	for p in $(STUDY_PROFILES); do \
		$(BIN)/python -m capacity_cli.reproduce --profile $$p --results results || exit 1; \
	done

# the timing table behind the estimate, from results/ (after a new reproduction: see capacity_cli/timing.py)
timings: $(STAMP)
	$(BIN)/python -m capacity_cli.reproduce --save-timings --results results

# make reproduce-<profile>: one study profile (structured, modern, ...)
reproduce-%: $(STAMP)
	$(BIN)/python -m capacity_cli.reproduce --profile $* --results results

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
