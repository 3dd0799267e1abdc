# Entry points; the scripts hold the logic (and install what is missing).
.PHONY: demo test wasm cli envoy-config fuzz fuzz-smoke soak

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# Fuzz targets (fuzz/, docs/fuzzing.md): 30 s each (also run by `make test`), or 10 min each.
fuzz-smoke:
	bash scripts/fuzz.sh smoke

fuzz:
	bash scripts/fuzz.sh long

# Mixed traffic at saturation for 10 minutes (docs/reliability.md); SOAK_ARGS="--duration 120".
soak:
	bash -c 'source scripts/common.sh && ensure_venv pytest pyyaml >/dev/null && "$$VENV/bin/python" scripts/soak.py $(SOAK_ARGS)'

# The filter as shipped: cargo profile `wasm`, then wasm-opt -Oz.
wasm:
	bash scripts/build_wasm.sh

cli:
	cargo build --release --bin tier-router

# Re-render envoy/envoy.yaml after editing envoy/tier-router.json or the template.
envoy-config:
	python3 envoy/render.py
	python3 deploy/render_compose.py
	python3 deploy/embed_config.py
bench:: ; python3 bench/run.py $(BENCH_ARGS)  # "::" runs even though bench/ exists; e.g. make bench BENCH_ARGS="--rounds 2 --duration 3"
