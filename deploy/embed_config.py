#!/usr/bin/env python3
"""Embed tier-router JSON configs into the deploy/ manifests that carry them.

A manifest marks each embedded copy with a comment on the line before its key:

    # tier-router config: deploy/istio/tier-router.istio.json
    value: |          <- a block scalar: the file's text, byte for byte (Envoy StringValue)
    pluginConfig:     <- no `|`: the JSON itself, read by YAML as a flow mapping

and this script rewrites the indented block under the key from the file, so the JSON file
stays the one place the config is edited (and `tier-router check` runs on it).
`--check` fails when a manifest is stale. Standard library only.
"""

import argparse
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^[ \t]*# tier-router config: (\S+)[ \t]*$")


def manifests():
    """Every YAML file under deploy/ that embeds a config."""
    return sorted(p for p in (REPO_ROOT / "deploy").rglob("*.yaml") if has_marker(p))


def has_marker(path):
    return bool(embedded_files(path.read_text(encoding="utf-8")))


def embedded_files(text):
    """The config paths (repo-relative) a manifest's markers name, in order."""
    return [m.group(1) for m in map(MARKER.match, text.splitlines()) if m]


def embed(text):
    """`text` with every marked block replaced by the current contents of its file."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        match = MARKER.match(line)
        if not match:
            continue
        key_line = lines[i]
        out.append(key_line)
        i += 1
        key_indent = len(key_line) - len(key_line.lstrip())
        # The old block: every following line indented deeper than its key.
        while i < len(lines) and lines[i].strip() and indent(lines[i]) > key_indent:
            i += 1
        config = (REPO_ROOT / match.group(1)).read_text(encoding="utf-8").rstrip("\n")
        if any(not line.strip() for line in config.split("\n")):
            # A blank line would end the block early on the next run.
            raise ValueError(f"{match.group(1)}: blank lines cannot be embedded")
        pad = " " * (key_indent + 2)
        out.extend(pad + config_line for config_line in config.split("\n"))
    return "\n".join(out)


def indent(line):
    return len(line) - len(line.lstrip())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if a manifest is stale")
    args = p.parse_args(argv)
    stale = []
    for path in manifests():
        current = path.read_text(encoding="utf-8")
        wanted = embed(current)
        if current == wanted:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(wanted, encoding="utf-8")
            print(f"updated {path.relative_to(REPO_ROOT)}")
    if args.check and stale:
        for path in stale:
            print(f"{path.relative_to(REPO_ROOT)} is stale: run `python3 deploy/embed_config.py`",
                  file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
