//! The model file: it round-trips, training is deterministic, and damaged or hostile bytes
//! (it comes from operator config) are refused with a reason, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::chat;
use tier_router_core::body::RequestBody;
use tier_router_core::learn::format::fnv1a;
use tier_router_core::learn::train::{train, Example, Options};
use tier_router_core::learn::{features::FeatureSpec, Model};

fn small_options() -> Options {
    let mut options = Options::default();
    options.spec = FeatureSpec {
        hash_bits: 8,
        ..options.spec
    };
    options
}

fn examples(options: &Options) -> Vec<Example> {
    [
        ("pick one: red or blue", 0),
        ("which category is this", 0),
        ("write a poem about rain", 1),
        ("tell me a story", 1),
    ]
    .iter()
    .map(|(p, t)| {
        let body = RequestBody::parse(&chat(p)).unwrap();
        Example::new(&options.spec, &body, *t)
    })
    .collect()
}

fn tiers() -> Vec<String> {
    vec!["label".to_string(), "chat".to_string()]
}

#[test]
fn training_is_deterministic_and_the_file_round_trips() {
    let options = small_options();
    let a = train(&tiers(), &examples(&options), &options).to_bytes();
    let b = train(&tiers(), &examples(&options), &options).to_bytes();
    assert_eq!(a, b);
    let model = Model::from_bytes(&a).unwrap();
    assert_eq!(model.to_bytes(), a);
    assert_eq!(model.file_len(), a.len());
    // Another seed shuffles differently: the bytes are a function of the flags too.
    let reseeded = Options { seed: 7, ..options };
    assert_ne!(
        train(&tiers(), &examples(&options), &reseeded).to_bytes(),
        a
    );
}

#[test]
fn every_truncation_and_every_flipped_byte_is_refused() {
    let options = small_options();
    let bytes = train(&tiers(), &examples(&options), &options).to_bytes();
    for len in 0..bytes.len() {
        assert!(
            Model::from_bytes(&bytes[..len]).is_err(),
            "truncated to {len}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Model::from_bytes(&longer).is_err());
    for i in 0..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[i] ^= 0x10;
        assert!(Model::from_bytes(&flipped).is_err(), "byte {i} flipped");
    }
}

/// Rewrites the checksum so a test reaches the check behind it.
fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
    let body = bytes.len() - 4;
    let sum = fnv1a(&bytes[..body]);
    bytes[body..].copy_from_slice(&sum.to_le_bytes());
    bytes
}

#[test]
fn hostile_headers_are_refused_with_a_reason() {
    let options = small_options();
    let bytes = train(&tiers(), &examples(&options), &options).to_bytes();
    let cases: [(usize, u8, &str); 5] = [
        (8, 2, "version 2"),
        (12, 40, "hash_bits 40"),
        (13, 1, "1 tiers"),
        (13, 200, "200 tiers"),
        (18, 0, "name is 0 bytes"),
    ];
    for (at, value, reason) in cases {
        let mut b = bytes.clone();
        b[at] = value;
        let err = Model::from_bytes(&resealed(b)).unwrap_err().to_string();
        assert!(err.contains(reason), "byte {at} = {value}: {err}");
    }
    // A NaN scale.
    let mut b = bytes.clone();
    let scales = 20 + "label".len() + 1 + "chat".len() + 8;
    b[scales..scales + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let err = Model::from_bytes(&resealed(b)).unwrap_err().to_string();
    assert!(err.contains("scale"), "{err}");
    let err = Model::from_bytes(&bytes[..30]).unwrap_err().to_string();
    assert!(err.contains("ends inside"), "{err}");
}
