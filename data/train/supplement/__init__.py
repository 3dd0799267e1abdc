"""Hand-written prompt material for data/train/supplement.jsonl (see ../README.md)."""
