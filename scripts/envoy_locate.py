"""Which Envoy to run: `ENVOY_BIN`, else `envoy` on PATH, else the repo's .venv (what
scripts/common.sh installs). Shared by the e2e tests, the benchmarks and the tools."""

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_ENVOY = REPO_ROOT / ".venv" / "bin" / "envoy"


class EnvoyNotFound(RuntimeError):
    pass


def find_envoy():
    explicit = os.environ.get("ENVOY_BIN")
    if explicit:
        # An explicit choice that does not exist is an error, not a reason to use another Envoy.
        if not Path(explicit).exists():
            raise EnvoyNotFound(f"ENVOY_BIN={explicit} does not exist")
        return explicit
    for candidate in (shutil.which("envoy"), VENV_ENVOY):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise EnvoyNotFound("no envoy found: set ENVOY_BIN or run scripts/test.sh to create .venv")
