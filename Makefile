# The two commands a newcomer needs are `make demo` and `make test`; each sets up what it needs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup pulumi demo test lint bench reliability mistakes dist compat clean

# The project's own environment takes the exact versions in constraints.txt, every file checked
# against its hash; the package itself declares ranges (pyproject.toml), proven at both ends by
# `make compat`. Two steps, since pip refuses an editable install in hash-checking mode: the
# dependencies (the build backend included), then the project alone, built with them.
$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r constraints.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

setup: $(STAMP)

# Prints the directory holding the Pulumi CLI (built from Go modules on first use).
pulumi:
	@scripts/ensure-pulumi | tail -1

demo: setup
	@scripts/demo

test: setup
	scripts/ensure-pulumi >/dev/null
	scripts/ensure-crane >/dev/null
	scripts/ensure-kubernetes-plugin >/dev/null
	scripts/ensure-pulumi-yaml >/dev/null
	$(VENV)/bin/pytest

# actionlint checks the project's workflows and the example one (built from its Go module on
# first use, like the other tools); any finding fails the target.
# gofmt and go vet check the Go modules under scripts/; a file gofmt would change is named and
# fails the target. The language host is vetted in place against its committed go.sum. The
# Kubernetes wrapper commits no go.sum and embeds two files its build generates, so it is vetted
# in a scratch copy with empty stand-ins for them and its modules resolved as
# scripts/ensure-kubernetes-plugin resolves them. -trimpath, as the builds use, lets vet reuse
# what they compiled (a cold vet of the wrapper compiles the provider: minutes).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	bin="$$(scripts/ensure-actionlint)" && "$$bin/actionlint" .github/workflows/*.yml examples/ci/deploy.yml
	@unformatted="$$(gofmt -l scripts/pulumi-language-python scripts/pulumi-resource-kubernetes)" || exit 1; \
	if [ -n "$$unformatted" ]; then printf 'gofmt would reformat (run gofmt -w):\n%s\n' "$$unformatted" >&2; exit 1; fi
	GOTOOLCHAIN=local go vet -C scripts/pulumi-language-python -mod=readonly -trimpath ./...
	scratch="$$(mktemp -d)" && trap 'rm -rf "$$scratch"' EXIT && \
	cp scripts/pulumi-resource-kubernetes/go.mod scripts/pulumi-resource-kubernetes/*.go "$$scratch/" && \
	touch "$$scratch/schema-embed.json" "$$scratch/terraform-mapping-embed.json" && \
	cd "$$scratch" && export GOFLAGS=-mod=mod GOTOOLCHAIN=local && go mod tidy && \
	go vet -trimpath . && go vet -trimpath generate.go

# The sdist and the wheel in dist/, checked: a wheel rebuilt from the sdist has the same
# files, the wheel holds nodion_pulumi only, and twine accepts the metadata.
dist: setup
	$(PY) -m nodion_devkit.dist dist

# The engine tests that matter most, once with the oldest supported pulumi and once with the
# newest on the package index, each in a virtualenv of its own holding the built wheel.
compat: dist
	scripts/ensure-pulumi >/dev/null
	scripts/compat

bench: setup
	scripts/ensure-pulumi >/dev/null
	$(PY) -m benchmarks

# Fault matrix (with a destroy storm), soak, hostile-input table and a long run of the stateful
# machine over the emulator; writes docs/reliability.md. `make test` runs a bounded machine only.
reliability: setup
	scripts/ensure-pulumi >/dev/null
	$(PY) -m reliability

# A new user's mistakes through the real CLI, each with the phase that catches it, the lines
# printed and the writes made; writes docs/mistakes.md. Not part of `make test`.
mistakes: setup
	scripts/ensure-pulumi >/dev/null
	$(PY) -m nodion_devkit.mistakes

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache dist
