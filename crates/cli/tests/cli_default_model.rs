//! The committed default model (models/default.trm) is exactly what
//! scripts/train_default_model.sh trains from the shared data and data/train: a retrain gives
//! the same bytes. Missing training data fails this test; it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_util;

use std::process::Command;

use cli_util::{repo_file, BIN};

#[test]
fn the_default_model_retrains_byte_for_byte() {
    let out = Command::new("bash")
        .arg(repo_file("scripts/train_default_model.sh"))
        .arg("--check")
        .env("TIER_ROUTER_BIN", BIN)
        .output()
        .expect("run scripts/train_default_model.sh");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
