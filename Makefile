# pymc_toolkit: `make demo` and `make test` set everything up on a fresh machine, then run.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
# Keep BLAS single-threaded: sampling processes share 2 cores (see nbs/03_pymc_model.ipynb).
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

.PHONY: setup browser docs demo test test-notebooks test-pytest export readme clean-nbs bench clean

setup: $(STAMP)

# The pinned requirements are installed by uv (pinned below): the same packages and versions as pip installs, in
# well under a minute instead of ~2.5 min on 2 cores. Bytecode is compiled at install, as pip does: where Python may
# not write it later (PYTHONDONTWRITEBYTECODE), every process would otherwise spend ~10 s more importing. Where uv
# cannot be installed, pip does it. Quiet: setuptools' notice that an editable install points at this folder is
# silenced (it is what -e means).
UV := uv==0.13.9
$(STAMP): requirements.txt requirements-development.txt setup.py settings.ini
	@py=$$(tools/find-python) || exit 1; \
	  echo "Using $$py ($$($$py --version))"; \
	  [ -x $(BIN)/python ] || $$py -m venv $(VENV)
	@if $(BIN)/python -m pip install -q "$(UV)" 2>/dev/null; then \
	  $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python --upgrade pip -r requirements-development.txt -e .; \
	else \
	  echo "uv could not be installed: installing with pip (a few minutes)"; \
	  $(BIN)/python -m pip install -q --upgrade pip && \
	  PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install -q -r requirements-development.txt -e .; \
	fi
	touch $(STAMP)

# The main job on the bundled demo batch: every client x fleet of data/clients.yaml, in a new run folder
# out/runs/<UTC time>/ (open out/index.html, the portfolio), then the demo client's full-size fit, its intercept and
# ROAS printed. That fit is the demo client's forecast fleet's: sampled on a worker beside the other fleets, kept in
# the batch's fit store (out/fits), then loaded by demo_fit.py. A failed batch still shows the fit; make exits 1.
demo: setup
	@rc=0; $(BIN)/pymc-toolkit run data/clients.yaml --out out || rc=1; \
	  $(BIN)/python discoveries/demo_fit.py --fits out/fits || [ $$? -eq 3 ] || rc=1; \
	  exit $$rc

# Reports are checked in headless Chromium (Debian package chromium).
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "Installing chromium for the report tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Both suites always run, so that a failing notebook does not hide a failing test; the exit code says if either failed.
test: setup browser
	@nb=0; py=0; \
	  $(MAKE) --no-print-directory test-notebooks || nb=$$?; \
	  $(MAKE) --no-print-directory test-pytest || py=$$?; \
	  [ $$nb -eq 0 ] || echo "make test: the notebooks failed (nbdev_test)"; \
	  [ $$py -eq 0 ] || echo "make test: pytest failed"; \
	  [ $$nb -eq 0 ] && [ $$py -eq 0 ]

test-notebooks: setup
	$(BIN)/nbdev_test --timing

test-pytest: setup browser
	$(BIN)/python -m pytest tests -q

export: setup
	$(BIN)/nbdev_export

readme: setup
	$(BIN)/python tools/make-readme

# The documentation site in _docs/ from nbdev's processed notebooks (a card per exported function): Quarto (nbdev_docs)
# when `quarto` is on PATH, else rendered offline with nbconvert, with a search box that works from the files.
docs: setup
	$(BIN)/python tools/make-docs

clean-nbs: setup
	$(BIN)/nbdev_clean

bench: setup
	$(BIN)/python benchmarks/bench_fit.py

clean:
	rm -rf $(VENV) _docs _proc
