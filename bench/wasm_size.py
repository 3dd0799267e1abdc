#!/usr/bin/env python3
"""Where the bytes of a wasm module go: section sizes, and code size by crate and function.

Function names come from the module's `name` section, so give it a build that kept it: the
shipped build (scripts/common.sh `build_wasm`: cargo profile `wasm`, then wasm-opt -Oz) with
`--keep-names`, e.g.

    CARGO_TARGET_DIR=bench/target/size bash scripts/build_wasm.sh --keep-names
    python3 bench/wasm_size.py bench/target/size/wasm32-wasip1/release/tier_router.wasm

(`bench/run.py --size-profile` does both.) Code sizes are the same as in the shipped module;
only the custom sections (names) differ. Standard library only.

The size target (issue 16) leaves out the built-in classifier model (models/default.trm,
embedded whole with `include_bytes!`): `model_bytes` finds that file's bytes in the module's
data section and says how many there are, so "module without the built-in model" is exact.
"""

import argparse
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = REPO_ROOT / "models" / "default.trm"

SECTION_NAMES = {
    0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global",
    7: "export", 8: "start", 9: "element", 10: "code", 11: "data", 12: "datacount",
}  # fmt: skip


def leb(data, pos):
    result, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def name_at(data, pos):
    length, pos = leb(data, pos)
    return data[pos : pos + length].decode("utf-8", "replace"), pos + length


def parse(data):
    if data[:4] != b"\0asm":
        raise SystemExit("not a wasm module")
    pos, sections, imported_funcs, bodies, names = 8, [], 0, [], {}
    while pos < len(data):
        sid = data[pos]
        size, body = leb(data, pos + 1)
        end = body + size
        label = SECTION_NAMES.get(sid, str(sid))
        if sid == 0:
            custom, _ = name_at(data, body)
            label = f"custom:{custom}"
            if custom == "name":
                names = parse_names(data, _, end)
        elif sid == 2:
            imported_funcs = count_func_imports(data, body)
        elif sid == 10:
            count, p = leb(data, body)
            for _ in range(count):
                fsize, p2 = leb(data, p)
                bodies.append(p2 + fsize - p)
                p = p2 + fsize
        sections.append((label, end - pos))
        pos = end
    return sections, imported_funcs, bodies, names


def count_func_imports(data, pos):
    count, pos = leb(data, pos)
    funcs = 0
    for _ in range(count):
        _, pos = name_at(data, pos)
        _, pos = name_at(data, pos)
        kind = data[pos]
        pos += 1
        if kind == 0:  # function: type index
            _, pos = leb(data, pos)
            funcs += 1
        elif kind == 1:  # table: reftype, limits
            pos += 1
            pos = skip_limits(data, pos)
        elif kind == 2:  # memory: limits
            pos = skip_limits(data, pos)
        elif kind == 3:  # global: valtype, mut
            pos += 2
    return funcs


def skip_limits(data, pos):
    flags = data[pos]
    _, pos = leb(data, pos + 1)
    if flags & 1:
        _, pos = leb(data, pos)
    return pos


def parse_names(data, pos, end):
    names = {}
    while pos < end:
        sub = data[pos]
        size, p = leb(data, pos + 1)
        if sub == 1:
            count, q = leb(data, p)
            for _ in range(count):
                index, q = leb(data, q)
                name, q = name_at(data, q)
                names[index] = name
        pos = p + size
    return names


def data_segments(data):
    """(address, payload offset in the file, length) of each active data segment with a
    constant address (rustc's and wasm-opt's only kind)."""
    pos, segments = 8, []
    while pos < len(data):
        sid = data[pos]
        size, body = leb(data, pos + 1)
        if sid == 11:
            count, p = leb(data, body)
            for _ in range(count):
                flags, p = leb(data, p)
                if flags == 1:  # passive: no address
                    length, p = leb(data, p)
                    p += length
                    continue
                if flags == 2:
                    _, p = leb(data, p)
                if data[p] != 0x41:  # i32.const
                    raise SystemExit("data segment address is not a constant")
                address, p = sleb(data, p + 1)
                p += 1  # end
                length, p = leb(data, p)
                segments.append((address, p, length))
                p += length
        pos = body + size
    return segments


def sleb(data, pos):
    result, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            if byte & 0x40:
                result -= 1 << shift
            return result, pos


def model_bytes(data, model=DEFAULT_MODEL):
    """Bytes of the module that are the built-in model. wasm-opt splits data segments at runs of
    zeros and drops the zeros, so the model is looked up in the memory image the segments
    build, and what it costs the module is the segment bytes inside its address range. 0 when
    the model is not in the module."""
    blob = Path(model).read_bytes() if Path(model).exists() else b""
    segments = data_segments(data)
    if not blob or not segments:
        return 0
    base = min(a for a, _, _ in segments)
    image = bytearray(max(a + n for a, _, n in segments) - base)
    for address, offset, length in segments:
        image[address - base : address - base + length] = data[offset : offset + length]
    found = image.find(blob)
    if found < 0:
        return 0
    start, end = base + found, base + found + len(blob)
    return sum(max(0, min(end, a + n) - max(start, a)) for a, _, n in segments)


def without_model(path, model=DEFAULT_MODEL):
    """(module bytes, built-in model bytes, module bytes without the model) of a module file."""
    data = Path(path).read_bytes()
    embedded = model_bytes(data, model)
    return len(data), embedded, len(data) - embedded


def demangle(name):
    """Rust symbol names to paths: legacy (`_ZN..E`, or already demangled by the linker with
    a leading `_<`), and v0 (`_R...`, only the identifiers kept). Others are left as they are."""
    if name.startswith("_<"):
        return name[1:]
    if name.startswith("_R"):
        # v0: identifiers are [s<disambiguator>_]<decimal length><bytes>, after a tag letter.
        idents, pos = [], 2
        ident_re = re.compile(r"(?:s[0-9A-Za-z]*_)?(\d+)_?")
        while pos < len(name):
            match = ident_re.match(name, pos)
            if match and name[pos - 1].isalpha():
                start = match.end()
                ident = name[start : start + int(match.group(1))]
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ident or "-"):
                    idents.append(ident)
                    pos = start + len(ident)
                    continue
            pos += 1
        return "::".join(idents) if idents else name
    if not name.startswith("_ZN"):
        return name
    parts, pos = [], 3
    while pos < len(name) and name[pos].isdigit():
        match = re.match(r"\d+", name[pos:])
        length = int(match.group())
        pos += len(match.group())
        parts.append(name[pos : pos + length])
        pos += length
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    text = "::".join(parts)
    for code, char in (("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$RF$", "&"),
                       ("$BP$", "*"), ("$C$", ","), ("$u7b$", "{"), ("$u7d$", "}"),
                       ("$u5b$", "["), ("$u5d$", "]"), ("$u27$", "'"), ("..", "::")):  # fmt: skip
        text = text.replace(code, char)
    return text[1:] if text.startswith("_<") else text


def demangle_all(raw_names):
    """Every name demangled: v0 names (`_R...`, what a nightly std build emits) by binutils'
    `c++filt` or `llvm-cxxfilt` when one is installed, with the crates' `[hash]`
    disambiguators dropped; the rest, or all without either tool, by `demangle`."""
    tool = shutil.which("c++filt") or shutil.which("llvm-cxxfilt")
    v0 = sorted({n for n in raw_names if n.startswith("_R")})
    readable = {}
    if tool and v0:
        result = subprocess.run([tool], input="\n".join(v0), capture_output=True, text=True)
        lines = result.stdout.splitlines()
        if result.returncode == 0 and len(lines) == len(v0):
            readable = {n: re.sub(r"\[[0-9a-f]+\]", "", d) for n, d in zip(v0, lines)}
    return {n: readable.get(n) or demangle(n) for n in raw_names}


def crate_of(name):
    """The crate a function belongs to: for `<a::B as c::D>::f` the implementing type's."""
    text = name.lstrip("<&* ")
    for prefix in ("mut ", "dyn "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text)
    crate = match.group() if match else "?"
    if "serde_json::de::Deserializer" in name and name.startswith("<&mut serde_json"):
        return "serde_json (Deserializer instances)"
    if crate in ("core", "alloc", "std"):
        # Generic std code instantiated for a crate's types is that crate's weight.
        for other in re.findall(r"\b(tier_router|serde_json|serde_core|serde|aho_corasick|proxy_wasm|"
                                r"serde_path_to_error|hashbrown|memchr)\b", name):  # fmt: skip
            return f"{other} (via {crate})"
    return crate


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("wasm", type=Path)
    p.add_argument("--top", type=int, default=25, help="largest functions to list")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL,
                   help="the built-in model file the size target leaves out")  # fmt: skip
    args = p.parse_args(argv)
    data = args.wasm.read_bytes()
    sections, imported, bodies, names = parse(data)
    total, embedded, rest = without_model(args.wasm, args.model)
    print(f"{args.wasm}: {total:,} bytes")
    names_bytes = sum(size for label, size in sections if label == "custom:name")
    print(f"module without the built-in model: {rest:,} bytes ({rest / 1024:,.1f} KiB; "
          f"model {embedded:,} bytes" + (", not found in the module" if not embedded else "")
          + (f"; of which the name section {names_bytes:,}, not shipped" if names_bytes else "")
          + ")")  # fmt: skip
    print("\nsections (bytes):")
    for label, size in sections:
        print(f"  {label:<28} {size:>10,}")
    code_total = sum(bodies)
    if not names:
        print("\nno name section: build without stripping to see functions")
        return 0
    by_crate = defaultdict(int)
    funcs = []
    raw = [names.get(imported + i, f"func[{imported + i}]") for i in range(len(bodies))]
    readable = demangle_all(raw)
    for i, size in enumerate(bodies):
        name = readable[raw[i]]
        funcs.append((size, name))
        by_crate[crate_of(name)] += size
    print(f"\ncode by crate (of {code_total:,} bytes of function bodies):")
    for crate, size in sorted(by_crate.items(), key=lambda kv: -kv[1])[:20]:
        print(f"  {crate:<40} {size:>9,}  {size / code_total:6.1%}")
    print(f"\nlargest functions:")
    for size, name in sorted(funcs, reverse=True)[: args.top]:
        print(f"  {size:>8,}  {name[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
