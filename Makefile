# The two commands a new user needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
SWIFT ?= swift
RUN_DIR ?= .run
TARGET_CPU := $(shell scripts/cpu-target.sh)
# Release: -O (safety checks kept), cross-module optimisation, and the CPU level this machine supports.
RELEASE_FLAGS := -c release -Xswiftc -cross-module-optimization $(if $(TARGET_CPU),-Xswiftc -target-cpu -Xswiftc $(TARGET_CPU))
PIXELGPT := $(SWIFT) run --skip-build $(RELEASE_FLAGS) pixelgpt

.PHONY: setup build release test run fuzz clean

setup:
	bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	@echo "release build for target CPU: $(or $(TARGET_CPU),toolchain default)" >&2
	$(SWIFT) build $(RELEASE_FLAGS)

test: build
	$(SWIFT) test

# The main job on its built-in default: a small random-weight checkpoint (written once), evaluated on the
# project's samples/ (200 rows of each labelled GLUE and XNLI file: RUN_TASKS on their validation split,
# samples/README.md) in text, pixel and pair modality, with probe heads trained on the samples' train rows,
# then one report over the three runs with its HTML page (the path is printed last). A random model scores
# at chance; the README shows how to evaluate a downloaded baidu/PixelGPT instead. The Llama-2 tokenizer
# comes from PIXELGPT_DATA.
PIXELGPT_DATA ?= $(abspath ../shared/data)
RUN_MODEL ?= $(RUN_DIR)/pixelgpt-tiny
# What samples/ holds: MNLI, QQP and AX (which MNLI's head predicts) have no public labelled rows offline,
# and XNLI's labelled rows are its dev set, so every task is evaluated on its validation split.
RUN_TASKS ?= cola,sst2,mrpc,stsb,qnli,rte,wnli,xnli

run: release
	@if [ ! -f $(RUN_MODEL)/model.safetensors ]; then $(PIXELGPT) init --preset tiny $(RUN_MODEL); fi
	@for modality in text pixel pair; do \
		PIXELGPT_DATA=$(PIXELGPT_DATA) $(PIXELGPT) eval --model $(RUN_MODEL) --tasks $(RUN_TASKS) --split validation --modality $$modality \
			--data-dir samples --output-dir $(RUN_DIR)/eval-$$modality || exit 1; \
	done
	@$(PIXELGPT) report $(RUN_DIR)/eval-text $(RUN_DIR)/eval-pixel $(RUN_DIR)/eval-pair --output-dir $(RUN_DIR)/report \
		--html $(RUN_DIR)/report/html > /dev/null
	@echo "HTML report of the three runs (what each row looked like to the model): $(abspath $(RUN_DIR))/report/html/index.html"

# Mutation fuzzing of every parser through the built tool (scripts/fuzz.py): FUZZ_COUNT inputs per target,
# each target stopping after FUZZ_SECONDS; prints the counts of ok, clean errors, other errors, crashes and
# hangs, and fails on any crash or hang (inputs kept in fuzz-failures/). `make test` runs 10 per target.
FUZZ_COUNT ?= 200
FUZZ_SECONDS ?= 300
FUZZ_SEED ?= 1

fuzz: build
	python3 scripts/fuzz.py --pixelgpt $$($(SWIFT) build --show-bin-path)/pixelgpt --seed $(FUZZ_SEED) \
		--count $(FUZZ_COUNT) --seconds $(FUZZ_SECONDS) --jobs 2

clean:
	rm -rf .build $(RUN_DIR)
