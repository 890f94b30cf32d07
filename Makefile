# kafkaio: every command a developer or CI needs. `make demo` and `make test` work on a fresh machine
# with Python 3.11+, Java 17+ and Maven: they make the virtual environment, build the extensions,
# fetch the Kafka broker from Maven Central (cached in ~/.cache/kafkaio) and start it on loopback.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: all venv build broker demo typecheck kdc test test-unit test-integration test-uvloop test-pure test-matrix bench bench-quick wheel clean

all: build

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel "cython>=3.0"
	$(PY) -m pip install --quiet --no-build-isolation -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# Compiles kafkaio/_speedups/*.pyx in place (incremental: only what changed).
build: venv
	$(PY) setup.py --quiet build_ext --inplace
	@$(PY) -c "import kafkaio; print('kafkaio speedups enabled:', kafkaio.speedups_enabled())"

broker: venv
	$(PY) -m kafkaio.testing.broker fetch

demo: build broker
	$(PY) examples/quickstart.py

# The whole package under mypy --strict (the compiled modules through their .pyi stubs).
typecheck: venv
	$(PY) -m mypy --strict kafkaio

# The Kerberos tests (tests/integration/test_gssapi.py) run an MIT KDC. Run as root on Debian or
# Ubuntu (a CI machine, a container), this installs it with apt; elsewhere those tests skip, naming
# the packages to install.
kdc:
	@if [ ! -x /usr/sbin/krb5kdc ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing the MIT KDC for the Kerberos tests: apt-get install krb5-kdc krb5-admin-server krb5-user"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq krb5-kdc krb5-admin-server krb5-user; } \
	    >/dev/null 2>&1 || echo "could not install krb5-kdc: the Kerberos tests will be skipped"; \
	fi

# The test files are spread over TEST_WORKERS processes (pytest-xdist, whole files per process, each
# process starting its own broker when a test first needs one); TEST_WORKERS=0 runs them in one.
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
# The integration tests (not slow) also run against an earlier release under uvloop, and against
# the oldest supported release.
PREVIOUS_KAFKA ?= 4.1.2
OLDEST_KAFKA ?= 3.9.1

# The type check, then the whole suite: unit and integration tests on the compiled core under the
# default loop against the default broker (kafkaio.testing.broker.DEFAULT_KAFKA_VERSION), the
# integration tests (not slow) again under uvloop against $(PREVIOUS_KAFKA) and against
# $(OLDEST_KAFKA), and the unit tests again on the pure-Python twins.
test: typecheck build broker kdc
	$(PY) -m pytest tests -ra --durations=25 $(XDIST) $(PYTEST_ARGS)
	KAFKAIO_LOOP=uvloop KAFKAIO_KAFKA_VERSION=$(PREVIOUS_KAFKA) $(PY) -m pytest tests/integration -ra -m "not slow" $(XDIST) $(PYTEST_ARGS)
	KAFKAIO_KAFKA_VERSION=$(OLDEST_KAFKA) $(PY) -m pytest tests/integration -ra -m "not slow" $(XDIST) $(PYTEST_ARGS)
	KAFKAIO_NO_EXTENSIONS=1 $(PY) -m pytest tests/unit -ra $(XDIST) $(PYTEST_ARGS)

test-unit: typecheck build
	$(PY) -m pytest tests/unit -ra $(XDIST) $(PYTEST_ARGS)

test-integration: build broker
	$(PY) -m pytest tests/integration -ra $(XDIST) $(PYTEST_ARGS)

test-pure: venv
	KAFKAIO_NO_EXTENSIONS=1 $(PY) -m pytest tests/unit -ra $(XDIST) $(PYTEST_ARGS)

# The integration tests against each supported Kafka release in turn (each fetched once from Maven
# Central); every version runs even when an earlier one failed, and the exit status says if any did.
KAFKA_MATRIX ?= 3.9.1 4.0.2 4.1.2 4.2.2 4.3.2 4.4.0
test-matrix: build
	@status=0; for v in $(KAFKA_MATRIX); do \
	  echo "== Kafka $$v"; \
	  KAFKAIO_KAFKA_VERSION=$$v $(PY) -m pytest tests/integration -ra -q $(XDIST) $(PYTEST_ARGS) || status=1; \
	done; exit $$status

bench: build broker
	$(PY) -m pip install --quiet -e '.[bench]' --no-build-isolation
	$(PY) -m benchmarks $(BENCH_ARGS)

bench-quick:
	$(MAKE) bench BENCH_ARGS=--quick

# The old name of `make wheels` (a plain `pip wheel .` gave a linux_x86_64 wheel that PyPI refuses).
wheel: wheels

# Release artifacts into dist/ (docs/packaging.md): the sdist, a manylinux wheel per CPython 3.11+ on
# this machine (auditwheel), the pure py3-none-any wheel; twine check, and the unit tests run on one
# compiled and the pure wheel, each installed in a fresh venv. All building happens under /tmp.
# WHEELS_ARGS passes options (e.g. WHEELS_ARGS='--test all' or '--python python3.12').
WHEELS_ARGS ?=
.PHONY: wheels
wheels:
	$(PYTHON) tests/packaging/wheels.py --out dist $(WHEELS_ARGS)

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis
	find kafkaio -name '*.so' -delete -o -name '*.c' -path '*/_speedups/*' -delete
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# The fault-schedule verifier (docs/chaos.md). `make chaos` runs the CI schedules; `SEED=N` replays
# one seed; `DURATION=30m` soaks on random seeds and prints a summary table; CHAOS_ARGS passes more
# options (e.g. CHAOS_ARGS='--workload producer --client-config my-producer.json').
SEED ?=
DURATION ?=
CHAOS_ARGS ?=
.PHONY: chaos
chaos: build broker
	$(PY) -m kafkaio.testing.chaos $(if $(SEED),--seed $(SEED)) $(if $(DURATION),--soak $(DURATION)) $(CHAOS_ARGS)
