#!/usr/bin/env python3
"""Writes data/train/supplement.jsonl: prompts written for tier-router from the tier definitions.

The shared training data (../shared/train/tiers.jsonl) has short, stylised code prompts; real
coding requests paste code and ask about frameworks. This file fills such gaps. Every prompt is
composed from the hand-written pieces in supplement/ (see README.md); nothing comes from a
dataset or benchmark. Deterministic: the same pieces give the same bytes.

    python3 data/train/make_supplement.py            # writes data/train/supplement.jsonl
    python3 data/train/make_supplement.py --check    # fails if the committed file is stale
    python3 data/train/make_supplement.py --overlap ../shared/train/tiers.jsonl
                                                     # reports shared 12-word spans, writes nothing
"""

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from supplement import analysis_code, analysis_text, chat, label, long_pastes  # noqa: E402

OUT = Path(__file__).resolve().parent / "supplement.jsonl"
SEED = 20261202
SOURCE_PREFIX = "tier-router/supplement:"
NEAR_DUPLICATE_JACCARD = 0.8
SHARED_SPAN_WORDS = 12

# Follow-up asks a user might add about any pasted code, used when a snippet has one ask only.
GENERIC_CODE_ASKS = [
    "Explain what this code does line by line, and point out anything that could go wrong.",
    "can you write unit tests for this? cover the edge cases",
    "How would you refactor this to be easier to read and test? Show the result.",
    "Review this like a senior engineer would in a pull request.",
]

CODE_FRAMES = [
    "{ask}\n\n```{fence}\n{code}\n```",
    "```{fence}\n{code}\n```\n\n{ask}",
    "{ask}\n\n{code}",
    "Here's my code:\n\n```{fence}\n{code}\n```\n{ask}",
    "{code}\n\n{ask}",
]
ERROR_FRAMES = [
    "Getting this:\n\n```\n{code}\n```\n\n{ask}",
    "{ask}\n\n```\n{code}\n```",
    "{code}\n\n{ask}",
]
CONFIG_LANGS = {"yaml", "dockerfile", "hcl"}


def code_prompts(rng):
    """(category, prompt) for every ask about every pasted snippet."""
    out = []
    long_snippets = [{"lang": lang, "code": code, "asks": asks} for lang, code, asks in long_pastes.ANALYSIS]
    for snippet in analysis_code.SNIPPETS + long_snippets:
        lang = snippet["lang"]
        asks = list(snippet["asks"])
        if len(asks) == 1 and lang != "text":
            asks.append(rng.choice(GENERIC_CODE_ASKS))
        if lang == "text":
            category, frames = "analysis-error-output", ERROR_FRAMES
        elif lang in CONFIG_LANGS:
            category, frames = "analysis-pasted-config", CODE_FRAMES
        else:
            category, frames = "analysis-pasted-code", CODE_FRAMES
        fence = analysis_code.FENCE_LANG.get(lang, lang)
        for ask in asks:
            frame = rng.choice(frames)
            out.append((category, frame.format(ask=ask, code=snippet["code"], fence=fence)))
    return out


def casual(rng, text):
    """Sometimes type a prompt the way people do: lower-case start, no final full stop."""
    if rng.random() < 0.15 and text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
        if text.endswith("."):
            text = text[:-1]
    return text


def text_prompts(rng, category, prompts):
    return [(category, casual(rng, p)) for p in prompts]


def label_prompts(rng):
    """One instruction wording per input, so each input appears once."""
    out = []
    for category, instructions, inputs in label.TASKS:
        for fields in inputs:
            out.append((category, rng.choice(instructions).format(**fields)))
    return out


def all_prompts():
    rng = random.Random(SEED)
    rows = []
    rows += [("analysis",) + p for p in code_prompts(rng)]
    for category, prompts in [
        ("analysis-framework", analysis_text.FRAMEWORK),
        ("analysis-write-code", analysis_text.WRITE_CODE),
        ("analysis-algorithms", analysis_text.ALGORITHMS),
        ("analysis-math", analysis_text.MATH),
        ("analysis-planning", analysis_text.PLANNING),
    ]:
        rows += [("analysis",) + p for p in text_prompts(rng, category, prompts)]
    for category, prompts in [
        ("chat-advice", chat.ADVICE),
        ("chat-explain", chat.EXPLAIN),
        ("chat-email-letter", chat.EMAILS),
        ("chat-creative", chat.CREATIVE),
        ("chat-rewrite", chat.REWRITE),
        ("chat-summary", chat.SUMMARIES),
        ("chat-opinion", chat.OPINION),
        ("chat-roleplay", chat.ROLEPLAY),
        ("chat-product-travel-health", chat.PRODUCT_TRAVEL_HEALTH),
    ]:
        rows += [("chat",) + p for p in text_prompts(rng, category, prompts)]
    rows += [("chat",) + p for p in long_pastes.CHAT]
    rows += [("label",) + p for p in label_prompts(rng)]
    rows += [("label",) + p for p in long_pastes.LABEL]
    return rows, rng


def normalise(text):
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def shingles(text, n=4):
    words = normalise(text).split()
    return {" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def dedupe(rows):
    """Drops exact duplicates after normalisation, then near duplicates (4-word shingles)."""
    kept, seen, kept_shingles, dropped = [], set(), [], []
    for row in rows:
        key = normalise(row[2])
        sh = shingles(row[2])
        near = any(len(sh & other) / len(sh | other) >= NEAR_DUPLICATE_JACCARD for other in kept_shingles)
        if key in seen or near:
            dropped.append(row)
            continue
        seen.add(key)
        kept_shingles.append(sh)
        kept.append(row)
    return kept, dropped


def render(rows):
    lines = []
    for tier, category, prompt in rows:
        record = {"tier": tier, "prompt": prompt, "source": SOURCE_PREFIX + category}
        lines.append(json.dumps(record, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def shared_spans(rows, path):
    """Rows sharing a 12-word span (after normalisation) with the given JSONL's prompts."""
    spans = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = normalise(json.loads(line)["prompt"]).split()
            for i in range(len(words) - SHARED_SPAN_WORDS + 1):
                spans.add(" ".join(words[i : i + SHARED_SPAN_WORDS]))
    hits = []
    for row in rows:
        words = normalise(row[2]).split()
        for i in range(len(words) - SHARED_SPAN_WORDS + 1):
            if " ".join(words[i : i + SHARED_SPAN_WORDS]) in spans:
                hits.append(row)
                break
    return hits


def counts(rows):
    per_tier = Counter(r[0] for r in rows)
    per_category = Counter((r[0], r[1]) for r in rows)
    lines = [f"total {len(rows)}: " + ", ".join(f"{t} {per_tier[t]}" for t in ("analysis", "chat", "label"))]
    lines += [f"  {t:9} {c:28} {n}" for (t, c), n in sorted(per_category.items())]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if supplement.jsonl is stale")
    parser.add_argument("--overlap", metavar="JSONL", help="report rows sharing a 12-word span with JSONL")
    args = parser.parse_args()

    rows, rng = all_prompts()
    rows, dropped = dedupe(rows)
    rng.shuffle(rows)
    if args.overlap:
        hits = shared_spans(rows, args.overlap)
        print(f"{len(hits)} of {len(rows)} rows share a {SHARED_SPAN_WORDS}-word span with {args.overlap}")
        for _, category, prompt in hits:
            print(f"  {category}: {prompt[:100]!r}")
        return 1 if hits else 0
    text = render(rows)
    if args.check:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is stale: run python3 {Path(__file__).name}", file=sys.stderr)
            return 1
        print(f"{OUT.name} is up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(counts(rows))
    print(f"dropped as duplicates: {len(dropped)}")
    for _, category, prompt in dropped:
        print(f"  {category}: {prompt[:80]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
