# cadenza: `make pipeline` runs the whole job, `make test` the whole suite.
# One cargo profile (release) for the binary, tests and benches, so dependencies build once.
CARGO  ?= cargo
CONFIG ?= configs/default.toml
PIPELINE := $(CARGO) run --release --quiet --bin pipeline --

.PHONY: pipeline test bench data soundfont build clean

# Every stage, then the summary table (intervals, overlaps, ranks) and the report page's path.
pipeline: data soundfont
	$(PIPELINE) run all --config $(CONFIG)
	$(PIPELINE) report --config $(CONFIG)

# The suite, then the checks that could not run here (a skip fails under CI; see tests/it/support).
test:
	@log=$$(mktemp); CADENZA_SKIP_LOG=$$log $(CARGO) test --release --locked; status=$$?; \
	if [ -s $$log ]; then echo "skipped checks:"; sort -u $$log; else echo "skipped checks: none"; fi; \
	rm -f $$log; exit $$status

# Every stage beside its peer, in one run (Python peers go into a venv under /tmp).
bench: data
	$(PIPELINE) bench all --config $(CONFIG)

data:
	@scripts/data.sh

# The General MIDI SoundFont for the pieces' audio, installed when missing and possible.
soundfont:
	@scripts/soundfont.sh

build:
	$(CARGO) build --release

clean:
	rm -rf data/tokens artifacts/*/
