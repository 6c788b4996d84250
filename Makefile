# Datos abiertos Casanare — tareas de desarrollo.
# Dos comandos para empezar: `make run` (ejecuta todo en el entorno embebido) y `make test`.

PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.instalado
export PYTHONPATH := $(CURDIR)/plugins:$(CURDIR)

.PHONY: run up test test-fast lint schema bench clean ids-portal

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $(STAMP)

run: $(STAMP)  ## Genera fuentes, levanta stand-ins y ejecuta cada DAG priorizado una vez
	$(BIN)/python -m scripts.ejecutar_local

up: $(STAMP)  ## Igual que run y deja Airflow (UI en http://localhost:8080, usuario y clave impresos) y los stand-ins arriba
	$(BIN)/python -m scripts.ejecutar_local --mantener

test: $(STAMP)  ## Toda la suite (unit + integration + e2e), como en CI; instala chromium y openssh-server si faltan
	bash scripts/paquetes_sistema.sh
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## Solo pruebas unitarias
	$(BIN)/python -m pytest -m unit

lint: $(STAMP)
	$(BIN)/ruff check .

schema: $(STAMP)  ## Regenera include/catalog/schema.json desde los modelos
	$(BIN)/python -c "import json; from casanare.catalog import json_schema; \
	open('include/catalog/schema.json','w').write(json.dumps(json_schema(), ensure_ascii=False, indent=2) + '\n')"

ids-portal: $(STAMP)  ## Imprime en YAML los 4x4 que datos.gov.co asignó a cada conjunto (staging de make run)
	CASANARE_STAGING_URL=$${CASANARE_STAGING_URL:-file://$(CURDIR)/data/staging} $(BIN)/python -m scripts.ids_portal

bench: $(STAMP)  ## Benchmarks de rendimiento (no forman parte de make test)
	$(BIN)/python -m scripts.bench $(BENCH)

clean:
	rm -rf data .pytest_cache
