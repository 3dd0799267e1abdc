"""data/train/supplement.jsonl is what make_supplement.py writes, has the shape `train` reads,
holds no duplicates, and shares no 12-word span with the shared training data it supplements."""

import json
import subprocess
import sys

import pytest

import harness

SUPPLEMENT = harness.REPO_ROOT / "data/train/supplement.jsonl"
SHARED = harness.REPO_ROOT.parent / "shared/train/tiers.jsonl"
TIERS = {"label", "chat", "analysis"}


def rows():
    return [json.loads(line) for line in SUPPLEMENT.read_text(encoding="utf-8").splitlines()]


def run_generator(*args):
    cmd = [sys.executable, "data/train/make_supplement.py", *args]
    return subprocess.run(cmd, cwd=harness.REPO_ROOT, capture_output=True, text=True, timeout=60)


def test_committed_file_is_what_the_generator_writes():
    result = run_generator("--check")
    assert result.returncode == 0, result.stderr


def test_every_row_names_a_tier_a_prompt_and_a_project_source():
    for row in rows():
        assert set(row) == {"tier", "prompt", "source"}, row
        assert row["tier"] in TIERS, row
        assert row["source"].startswith("tier-router/supplement:"), row
        assert len(row["prompt"]) >= 10, row


def test_no_prompt_appears_twice_after_normalisation():
    keys = [" ".join("".join(c if c.isalnum() else " " for c in r["prompt"].lower()).split()) for r in rows()]
    assert len(keys) == len(set(keys))


def test_each_tier_holds_between_a_fifth_and_a_half_of_the_rows():
    all_rows = rows()
    for tier in TIERS:
        share = sum(r["tier"] == tier for r in all_rows) / len(all_rows)
        assert 0.2 <= share <= 0.5, (tier, share)


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/train is not next to this checkout")
def test_no_row_shares_a_12_word_span_with_the_shared_training_data():
    result = run_generator("--overlap", str(SHARED))
    assert result.returncode == 0, result.stdout
