//! `explicit_tasks.trusted`: only listed callers (mTLS principals, source CIDRs, a header an
//! earlier filter sets) may name a task; anyone else's task is ignored, counted with its
//! reason, and the body is classified. Without an allow-list everyone may, as before.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{chat, compile, minimal};
use serde_json::{json, Value};
use tier_router_core::trust::{
    parse_address_ip, Caller, Cidr, CidrError, Principal, UntrustedReason,
};
use tier_router_core::{Config, Decision, RequestHead, Source, UntrustedTask};

const BATCH: &str = "spiffe://cluster.local/ns/app/sa/batch";

fn with_trusted(trusted: Value) -> Config {
    let mut config = minimal();
    config["explicit_tasks"] = json!({ "trusted": trusted });
    compile(&config).unwrap()
}

fn decide(config: &Config, path: &str, task: Option<&str>, caller: Caller<'_>) -> Decision {
    let head = RequestHead {
        path,
        task,
        caller,
        ..RequestHead::default()
    };
    config
        .route(&head, Some(&chat("Prove step by step that 7 is prime.")))
        .decision
}

fn from_address(address: &str) -> Caller<'_> {
    Caller {
        source_address: Some(address),
        ..Caller::default()
    }
}

#[test]
fn without_an_allow_list_everyone_may_name_a_task() {
    let config = compile(&minimal()).unwrap();
    assert!(config.trusted_callers.is_none());
    let d = decide(
        &config,
        "/v1/chat/completions",
        Some("classify"),
        Caller::default(),
    );
    assert_eq!((config.tier_name(&d), d.source), ("label", Source::Header));
    assert_eq!(d.untrusted_task, None);
}

#[test]
fn an_untrusted_callers_task_is_ignored_and_the_body_classified() {
    let config = with_trusted(json!({"source_cidrs": ["10.0.0.0/8"]}));
    let outsider = from_address("192.168.1.7:40000");
    for (path, task, source) in [
        ("/v1/chat/completions", Some("classify"), Source::Header),
        ("/v1/chat/completions?task=label", None, Source::Query),
        ("/api/classify/v1/chat/completions", None, Source::Path),
    ] {
        let d = decide(&config, path, task, outsider);
        // The prompt asks for a step-by-step proof: the classifier picks analysis.
        assert_eq!(
            (config.tier_name(&d), d.source),
            ("analysis", Source::Classifier),
            "{path}"
        );
        assert_eq!(
            d.untrusted_task,
            Some(UntrustedTask {
                source,
                reason: UntrustedReason::CallerNotTrusted
            }),
            "{path}"
        );
    }
    let d = decide(&config, "/v1/chat/completions", Some("classify"), outsider);
    let logged: Vec<_> = config.decision_fields(&d);
    assert!(
        logged.contains(&(
            "tier_router.untrusted_task",
            "header:caller_not_trusted".to_string()
        )),
        "{logged:?}"
    );
    // A trusted caller's task is honoured; an unknown task stays `unknown_task` for anyone.
    let insider = from_address("10.1.2.3:5555");
    let d = decide(&config, "/v1/chat/completions", Some("classify"), insider);
    assert_eq!(
        (config.tier_name(&d), d.source, d.untrusted_task),
        ("label", Source::Header, None)
    );
    let d = decide(&config, "/v1/chat/completions", Some("platinum"), insider);
    assert_eq!(
        d.untrusted_task.map(|u| u.reason),
        Some(UntrustedReason::UnknownTask)
    );
    let d = decide(&config, "/v1/chat/completions", Some("platinum"), outsider);
    assert_eq!(
        d.untrusted_task.map(|u| u.reason),
        Some(UntrustedReason::UnknownTask)
    );
}

#[test]
fn the_caller_is_read_only_for_requests_that_name_a_task() {
    let config = with_trusted(json!({"source_cidrs": ["10.0.0.0/8"]}));
    let head = |path, task| RequestHead {
        path,
        task,
        ..RequestHead::default()
    };
    assert!(config.reads_caller(&head("/v1/chat/completions", Some("classify"))));
    assert!(config.reads_caller(&head("/api/classify", None)));
    assert!(!config.reads_caller(&head("/v1/chat/completions", None)));
    assert!(!config.reads_caller(&head("/v1/chat/completions", Some("platinum"))));
    let open = compile(&minimal()).unwrap();
    assert!(!open.reads_caller(&head("/v1/chat/completions", Some("classify"))));
}

#[test]
fn ipv4_and_ipv6_cidrs_match_by_prefix() {
    let config = with_trusted(
        json!({"source_cidrs": ["10.0.0.0/8", "127.0.0.1/32", "fd00::/8", "2001:db8:1::/48"]}),
    );
    let trusted = config.trusted_callers.as_ref().unwrap();
    let trusts = |address| trusted.trusts(&from_address(address));
    assert!(trusts("10.255.0.1:80"));
    assert!(trusts("127.0.0.1:1234"));
    assert!(!trusts("127.0.0.2:1234"));
    assert!(!trusts("11.0.0.1:80"));
    assert!(trusts("[fd12:3456::1]:443"));
    assert!(trusts("[2001:db8:1:ffff::9]:443"));
    assert!(!trusts("[2001:db8:2::9]:443"));
    assert!(!trusts("[fe80::1]:443"));
    // Dual-stack listeners report IPv4 clients as IPv4-mapped IPv6.
    assert!(trusts("[::ffff:10.9.9.9]:80"));
    assert!(!trusts("[::ffff:11.9.9.9]:80"));
    // An address that does not parse trusts no one.
    assert!(!trusts("not-an-address"));
    assert!(!trusted.trusts(&Caller::default()));
}

#[test]
fn cidr_edges() {
    let all_v4 = Cidr::parse("0.0.0.0/0").unwrap();
    assert!(all_v4.contains("203.0.113.9".parse().unwrap()));
    assert!(
        !all_v4.contains("::1".parse().unwrap()),
        "v4 networks hold no v6 addresses"
    );
    let host = Cidr::parse("::1").unwrap();
    assert!(host.contains("::1".parse().unwrap()));
    assert!(!host.contains("::2".parse().unwrap()));
    assert_eq!(Cidr::parse("10.0.0.0/33"), Err(CidrError::Malformed));
    assert_eq!(Cidr::parse("10.0.0.0/+8"), Err(CidrError::Malformed));
    assert_eq!(Cidr::parse("10.0.0/8"), Err(CidrError::Malformed));
    assert_eq!(Cidr::parse("fd00::/129"), Err(CidrError::Malformed));
    assert_eq!(
        Cidr::parse("10.1.2.3/8"),
        Err(CidrError::HostBits("10.0.0.0/8".into()))
    );
    assert_eq!(
        parse_address_ip("1.2.3.4:5").unwrap().to_string(),
        "1.2.3.4"
    );
    assert_eq!(parse_address_ip("[::1]:5").unwrap().to_string(), "::1");
    assert_eq!(parse_address_ip("::1").unwrap().to_string(), "::1");
}

#[test]
fn principals_match_exactly_or_by_a_star_prefix() {
    let config = with_trusted(
        json!({"principals": [BATCH, "spiffe://cluster.local/ns/batch/*", "jobs.example.com"]}),
    );
    let trusted = config.trusted_callers.as_ref().unwrap();
    let uri = |san| Caller {
        peer_uri_san: Some(san),
        ..Caller::default()
    };
    assert!(trusted.trusts(&uri(BATCH)));
    assert!(!trusted.trusts(&uri("spiffe://cluster.local/ns/app/sa/batch2")));
    assert!(!trusted.trusts(&uri("spiffe://cluster.local/ns/app/sa/web")));
    assert!(trusted.trusts(&uri("spiffe://cluster.local/ns/batch/sa/nightly")));
    assert!(!trusted.trusts(&uri("spiffe://cluster.local/ns/batchy/sa/x")));
    // DNS SANs (mTLS outside a mesh) are compared against the same list.
    let dns = Caller {
        peer_dns_san: Some("jobs.example.com"),
        ..Caller::default()
    };
    assert!(trusted.trusts(&dns));
    assert!(!trusted.trusts(&Caller {
        peer_dns_san: Some("evil.example.com"),
        ..Caller::default()
    }));
    // The address is ignored when only principals are listed.
    assert!(!trusted.trusts(&from_address("127.0.0.1:1")));
    assert!(trusted.reads_principals() && !trusted.reads_source());
    assert_eq!(Principal::parse("spiffe://a/*/b"), None);
    assert_eq!(Principal::parse("*"), None);
}

#[test]
fn the_trusted_header_trusts_by_presence() {
    let config = with_trusted(json!({"header": "x-authz-batch"}));
    let trusted = config.trusted_callers.as_ref().unwrap();
    let with_header = Caller {
        trusted_header: true,
        ..Caller::default()
    };
    assert!(trusted.trusts(&with_header));
    assert!(!trusted.trusts(&Caller::default()));
    let d = decide(
        &config,
        "/v1/chat/completions",
        Some("classify"),
        with_header,
    );
    assert_eq!((config.tier_name(&d), d.source), ("label", Source::Header));
}

#[test]
fn any_listed_kind_of_caller_is_enough() {
    let config = with_trusted(
        json!({"principals": [BATCH], "source_cidrs": ["10.0.0.0/8"], "header": "x-authz-batch"}),
    );
    let trusted = config.trusted_callers.as_ref().unwrap();
    assert!(trusted.trusts(&Caller {
        peer_uri_san: Some(BATCH),
        ..from_address("192.0.2.1:1")
    }));
    assert!(trusted.trusts(&from_address("10.0.0.1:1")));
    assert!(trusted.trusts(&Caller {
        trusted_header: true,
        ..Caller::default()
    }));
    assert!(!trusted.trusts(&Caller {
        peer_uri_san: Some("spiffe://x/y"),
        ..from_address("192.0.2.1:1")
    }));
}

fn error_of(trusted: Value) -> (String, String) {
    let mut config = minimal();
    config["explicit_tasks"] = json!({ "trusted": trusted });
    let e = compile(&config).unwrap_err();
    (e.field, e.message)
}

#[test]
fn bad_allow_lists_name_the_field_and_the_form() {
    let (field, message) = error_of(json!({"source_cidrs": ["10.0.0.0/8", "10.0.0.0/33"]}));
    assert_eq!(field, "explicit_tasks.trusted.source_cidrs[1]");
    assert!(
        message.contains("10.0.0.0/8") && message.contains("fd00::/8"),
        "{message}"
    );
    let (field, message) = error_of(json!({"source_cidrs": ["192.168.1.1/16"]}));
    assert_eq!(field, "explicit_tasks.trusted.source_cidrs[0]");
    assert!(message.contains("`192.168.0.0/16`"), "{message}");
    let (field, message) = error_of(json!({"principals": ["spiffe://a/*/b"]}));
    assert_eq!(field, "explicit_tasks.trusted.principals[0]");
    assert!(
        message.contains("spiffe://cluster.local/ns/batch/*"),
        "{message}"
    );
    let (field, _) = error_of(json!({"header": "X-Authz"}));
    assert_eq!(field, "explicit_tasks.trusted.header");
    let (field, message) = error_of(json!({"header": "x-task"}));
    assert_eq!(field, "explicit_tasks.trusted.header");
    assert!(message.contains("reads or sets"), "{message}");
    for router_header in ["x-tier-router-cluster", "x-request-id", "x-session-id"] {
        let (field, _) = error_of(json!({ "header": router_header }));
        assert_eq!(field, "explicit_tasks.trusted.header", "{router_header}");
    }
    let (field, message) = error_of(json!({}));
    assert_eq!(field, "explicit_tasks.trusted");
    assert!(message.contains("remove `trusted`"), "{message}");
    let (field, _) = error_of(json!({"principal": [BATCH]}));
    assert!(field.starts_with("explicit_tasks.trusted"), "{field}");
    let many: Vec<String> = (0..1025)
        .map(|i| format!("10.{}.{}.0/24", i / 256, i % 256))
        .collect();
    let (field, _) = error_of(json!({ "source_cidrs": many }));
    assert_eq!(field, "explicit_tasks.trusted.source_cidrs");
}
