# The two commands of the README:
#   make demo   set up a virtualenv and run the main job: a real unittest suite run by
#               subunit2 on two workers, watched live, filtered, and turned into
#               JUnit XML and HTML
#   make test   set up a virtualenv with the test extras and run the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test asan lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The C sources are part of the install: the package build compiles the accelerator.
$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml setup.py \
  $(wildcard c/src/*.[ch] c/include/*.h c/python/*.c)
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	# python-subunit (an interop test dependency) installs commands with the same
	# names as ours; reinstall ours last so .venv/bin holds this project's commands.
	$(BIN)/python -m pip install -q --no-deps --force-reinstall -e .
	touch $@

DEMO = build/demo
DEMO_RUN = $(abspath $(BIN)/python) -m subunit2.run --enumerate \
  discover -s examples/demo_suite -t examples

demo: $(VENV)/.installed
	@mkdir -p $(DEMO)
	@echo "== A real unittest suite (one test fails on purpose): list its tests,"
	@echo "== deal them to two parallel workers, and watch the merged stream live:"
	$(BIN)/python -m subunit2.run --list discover -s examples/demo_suite -t examples \
	  | $(BIN)/subunit-ls --exists > $(DEMO)/ids.txt
	$(BIN)/subunit-combine --no-input --no-verdict --load-list $(DEMO)/ids.txt \
	  -c "$(DEMO_RUN)" -c "$(DEMO_RUN)" \
	  | tee $(DEMO)/run.subunit | $(BIN)/subunit-trace --no-verdict
	@echo "== Only the failures, their counts, and the reports CI systems and people read:"
	$(BIN)/subunit-filter --no-passthrough $(DEMO)/run.subunit \
	  | $(BIN)/subunit-stats --no-verdict
	$(BIN)/subunit2junitxml --no-verdict $(DEMO)/run.subunit -o $(DEMO)/junit.xml
	$(BIN)/subunit2html --no-verdict $(DEMO)/run.subunit -o $(DEMO)/report.html
	@echo "== Wrote $(DEMO)/run.subunit, $(DEMO)/junit.xml and $(DEMO)/report.html"

# The whole suite runs twice: with the compiled codec, then forced to pure Python.
test: $(VENV)/.installed-test
	$(BIN)/python -c "import subunit2._accel as a; print('codec:', a.IMPLEMENTATION)"
	$(BIN)/python -m pytest -q
	SUBUNIT2_PURE_PYTHON=1 $(BIN)/python -m pytest -q
	$(MAKE) -C c test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The whole suite against the compiled codec built with AddressSanitizer and
# UndefinedBehaviorSanitizer (the installed extension is not touched).
asan: $(VENV)/.installed-test
	$(MAKE) -C c asan-python PYTHON=$(abspath $(BIN)/python) ASAN_PYTHONMALLOC=pymalloc

bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench_codec.py --memory
	$(BIN)/python bench/bench_filters.py
	$(BIN)/python bench/bench_views.py

clean:
	rm -rf $(VENV) build *.egg-info python/*.egg-info .pytest_cache .hypothesis python/subunit2/*.so
	$(MAKE) -C c clean
