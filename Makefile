# Two commands: `make demo` and `make test`. Both create ./.venv with the pinned stack if missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmwsss-installed
DEMO_CONFIG := configs/wsss/racam_r18_deeplabv3plus_synthetic.py
DEMO_DIR := work_dirs/demo

.PHONY: install demo test lint clean-demo

$(STAMP): requirements.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=23"
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) tools/run_pipeline.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR)

test: $(STAMP)
	$(PY) -m pytest -q

# pyflakes + pycodestyle (ruff.toml) and OpenMMLab's import order (setup.cfg [isort])
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/isort --check-only --diff .

clean-demo:
	rm -rf $(DEMO_DIR) data/synthetic_defects
