# The table of contents: each recipe calls one layer's own tool.
#   make bench   the main job: local hosts up, deploy and bench both modes, report, hosts down
#   make test    lint and the test suite (what CI runs)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
PREFLIGHT_PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The app's Django × Python combination (docs/MATRIX.md): its lock and its wheelhouse.
# The default (5.2 on 3.11) keeps requirements/app.lock and build/wheelhouse, which
# make setup builds; other combinations build on demand: make wheelhouse DJANGO=6.1 HOST_PYTHON=3.12
DJANGO ?= 5.2
HOST_PYTHON ?= 3.11
COMBO := django$(DJANGO)-py$(HOST_PYTHON)
ifeq ($(COMBO),django5.2-py3.11)
WHEELHOUSE := build/wheelhouse
APP_LOCK := requirements/app.lock
else
WHEELHOUSE := build/wheelhouse-$(COMBO)
APP_LOCK := requirements/app-$(COMBO).lock
endif
APT_PACKAGES := openssh-server openssh-client apache2-utils wrk iproute2 procps rsync
MODE ?= asgi
PORT ?= 8000

.PHONY: help preflight setup system-packages venv wheelhouse lock bench selfbench test lint fmt serve clean-hosts clean

help: ## List the recipes
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

preflight: ## What this machine lacks for the local hosts, one line each (make setup runs it)
	@$(PREFLIGHT_PYTHON) -m runner.preflight setup --label "make setup"

setup: preflight system-packages venv wheelhouse ## Install what the project needs (idempotent)

system-packages: ## Debian packages the hosts and the runner use (as root)
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make setup: Debian packages missing:$$missing; run as root or install them" >&2; exit 1; fi; \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

venv: $(BIN)/.installed ## The controller's virtualenv from requirements/controller.lock

$(BIN)/.installed: requirements/controller.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements/controller.lock
	@touch $@

wheelhouse: $(WHEELHOUSE)/.built ## Wheels for the hosts (they reach no registry): DJANGO=5.2 HOST_PYTHON=3.11

# flock: matrix runs and tests may ask for the same combination at once.
$(WHEELHOUSE)/.built: $(APP_LOCK) | $(BIN)/.installed
	@mkdir -p $(WHEELHOUSE)
	flock $(WHEELHOUSE).lock $(BIN)/pip download -q -r $(APP_LOCK) -d $(WHEELHOUSE) \
	  --only-binary=:all: --python-version $(HOST_PYTHON) --implementation cp \
	  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any
	flock $(WHEELHOUSE).lock $(BIN)/pip download -q -d $(WHEELHOUSE) --only-binary=:all: --python-version $(HOST_PYTHON) pip setuptools wheel
	@touch $@

requirements/app-%.lock:
	@echo "make: no lock $@: run make lock DJANGO=$(DJANGO) HOST_PYTHON=$(HOST_PYTHON) (and commit it)" >&2; exit 1

lock: venv ## Resolve the app's lock for one combination with its own Python: make lock DJANGO=6.1 HOST_PYTHON=3.12
	$(BIN)/python -m runner.locks $(DJANGO) $(HOST_PYTHON)

bench: setup ## The main job (hosts up, compare both modes, report, hosts down); PROJECT=file.toml: your project
	$(BIN)/python -m runner.mainjob $(if $(PROJECT),--project $(PROJECT)) $(ARGS)

selfbench: setup ## The harness measures itself (benchmarks/latest.json; root, ~25-35 min)
	$(BIN)/python -m benchmarks.selfbench $(ARGS)

test: setup lint ## Lint and run the whole test suite
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv ## ruff, terraform fmt, ansible-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	terraform fmt -check -recursive infra
	cd playbooks && ../$(BIN)/ansible-lint --offline --profile production .

fmt: venv ## Format Python and HCL in place
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	terraform fmt -recursive infra

serve: venv ## Serve the app here in the foreground: make serve MODE=asgi PORT=8000
	cd app && BENCH_MODE=$(MODE) ../$(BIN)/python -m benchsite.serving --host 127.0.0.1 --port $(PORT) --migrate --exec

clean-hosts: ## Remove every local host of the project (both cgroup hierarchies), whatever Terraform's state
	infra/local/scripts/clean-hosts.sh

clean: clean-hosts ## Remove build output (keeps results/)
	rm -rf build
