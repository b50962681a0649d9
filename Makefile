# The two commands of the README:
#   make demo   set up a virtualenv and run the main job (an example run, streamed
#               through the toolkit, ending in a readable summary)
#   make test   set up a virtualenv with the test extras and run the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	# python-subunit (an interop test dependency) installs commands with the same
	# names as ours; reinstall ours last so .venv/bin holds this project's commands.
	$(BIN)/python -m pip install -q --no-deps --force-reinstall -e .
	touch $@

demo: $(VENV)/.installed
	@echo "An example run (one test fails on purpose), streamed through the toolkit:"
	$(BIN)/python examples/emit_example_run.py \
	  | $(BIN)/subunit2json | $(BIN)/json2subunit \
	  | $(BIN)/python examples/summarise.py --exit-zero

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench_codec.py --memory

clean:
	rm -rf $(VENV) build *.egg-info python/*.egg-info .pytest_cache .hypothesis
