# `make run`: install, migrate, load the demo, start web + worker + beat. `make test`: install, run the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run test install clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "forum needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

run: install
	FORUM_ENV=development $(BIN)/flask --app wsgi db upgrade
	FORUM_ENV=development $(BIN)/flask --app wsgi forum demo
	@echo "Forum: http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	FORUM_ENV=development PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start --port $(PORT) --procfile Procfile

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
