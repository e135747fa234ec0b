# The two commands a new user needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
SWIFT ?= swift
RUN_DIR ?= .run
TARGET_CPU := $(shell scripts/cpu-target.sh)
# Release: -O (safety checks kept), cross-module optimisation, and the CPU level this machine supports.
RELEASE_FLAGS := -c release -Xswiftc -cross-module-optimization $(if $(TARGET_CPU),-Xswiftc -target-cpu -Xswiftc $(TARGET_CPU))
PIXELGPT := $(SWIFT) run --skip-build $(RELEASE_FLAGS) pixelgpt

.PHONY: setup build release test run clean

setup:
	bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	@echo "release build for target CPU: $(or $(TARGET_CPU),toolchain default)" >&2
	$(SWIFT) build $(RELEASE_FLAGS)

test: build
	$(SWIFT) test

# The main job on its built-in default. Until evaluation exists: a released-size (base) random
# checkpoint, written once, then inspected.
run: release
	@if [ ! -f $(RUN_DIR)/pixelgpt-base/model.safetensors ]; then \
		$(PIXELGPT) init --preset base $(RUN_DIR)/pixelgpt-base; fi
	time $(PIXELGPT) inspect $(RUN_DIR)/pixelgpt-base

clean:
	rm -rf .build $(RUN_DIR)
