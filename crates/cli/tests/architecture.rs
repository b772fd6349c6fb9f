//! The dependency rules of `ARCHITECTURE.md`, checked over `cargo metadata`
//! so that a violation fails CI with the rule's name.
//!
//! Each rule is one test named after it. The workspace's resolved graph
//! is read once per test (cargo's own answer, the same one the build
//! uses); "normal" dependencies are those the product links, "dev" ones
//! only tests and benches.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Crates that do no I/O, no async and speak no network protocol.
const PURE: &[&str] = &[
    "oretrace-tlog",
    "oretrace-domain",
    "oretrace-epcis",
    "oretrace-epcis-map",
    "oretrace-epcis-schema",
    "oretrace-provenance",
    "oretrace-portal",
];

/// Crates that do I/O of some kind: runtimes, networking, databases,
/// files. None of them may be linked into a pure crate.
const IO_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "socket2",
    "hyper",
    "axum",
    "reqwest",
    "rusqlite",
    "libsqlite3-sys",
    "tokio-postgres",
    "postgres",
    "deadpool-postgres",
    "tempfile",
];

/// Crates for tests and benchmarks only: never in the product.
const DEV_ONLY: &[&str] = &[
    "oretrace-benchkit",
    "oretrace-fuzz-targets",
    "proptest",
    "criterion",
    "arbitrary",
];

/// The binary, the only crate that may choose a storage backend, print
/// or use `anyhow`.
const BINARY: &str = "oretrace";

struct Graph {
    /// Workspace member names.
    members: BTreeSet<String>,
    /// name → (dependency name, is normal) for every resolved package.
    deps: BTreeMap<String, Vec<(String, bool)>>,
}

impl Graph {
    fn load() -> Graph {
        let meta = metadata();
        let name_of: BTreeMap<&str, &str> = meta["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        let members = meta["workspace_members"]
            .as_array()
            .expect("workspace_members")
            .iter()
            .map(|id| name_of[id.as_str().unwrap()].to_owned())
            .collect();
        let mut deps = BTreeMap::new();
        for node in meta["resolve"]["nodes"].as_array().expect("resolve.nodes") {
            let name = name_of[node["id"].as_str().unwrap()].to_owned();
            let list: Vec<(String, bool)> = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let dep = name_of[d["pkg"].as_str().unwrap()].to_owned();
                    let normal = d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null());
                    (dep, normal)
                })
                .collect();
            deps.entry(name).or_insert_with(Vec::new).extend(list);
        }
        let graph = Graph { members, deps };
        for pure in PURE {
            assert!(
                graph.members.contains(*pure),
                "ARCHITECTURE rule list names {pure}, which is not a workspace member"
            );
        }
        graph
    }

    /// Direct dependencies of `krate`, normal only or all kinds.
    fn direct(&self, krate: &str, normal_only: bool) -> BTreeSet<&str> {
        self.deps
            .get(krate)
            .map(|list| {
                list.iter()
                    .filter(|(_, normal)| *normal || !normal_only)
                    .map(|(d, _)| d.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Everything `krate` links, transitively, through normal dependencies,
    /// with the path by which each is reached.
    fn linked(&self, krate: &str) -> BTreeMap<String, Vec<String>> {
        let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut stack = vec![(krate.to_owned(), vec![krate.to_owned()])];
        while let Some((name, path)) = stack.pop() {
            for dep in self.direct(&name, true) {
                if !seen.contains_key(dep) {
                    let mut p = path.clone();
                    p.push(dep.to_owned());
                    seen.insert(dep.to_owned(), p.clone());
                    stack.push((dep.to_owned(), p));
                }
            }
        }
        seen
    }
}

/// `cargo metadata`'s answer for the workspace.
fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(workspace_root())
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata's JSON")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fails with every violation of one rule, named.
fn check(rule: &str, violations: Vec<String>) {
    assert!(
        violations.is_empty(),
        "architecture rule `{rule}` is broken (ARCHITECTURE.md, Invariants):\n  {}",
        violations.join("\n  ")
    );
}

#[test]
fn pure_crates_link_no_io() {
    let g = Graph::load();
    let mut bad = Vec::new();
    for pure in PURE {
        for (dep, path) in g.linked(pure) {
            if IO_CRATES.contains(&dep.as_str()) {
                bad.push(format!("{pure} links {dep} via {}", path.join(" → ")));
            }
        }
    }
    check("pure-crates-link-no-io", bad);
}

#[test]
fn pure_crates_depend_only_on_pure_crates() {
    let g = Graph::load();
    let mut bad = Vec::new();
    for pure in PURE {
        for dep in g.direct(pure, true) {
            if g.members.contains(dep) && !PURE.contains(&dep) {
                bad.push(format!("{pure} depends on {dep}, which is not pure"));
            }
        }
    }
    check("pure-crates-depend-only-on-pure-crates", bad);
}

#[test]
fn anyhow_only_in_the_binary() {
    let g = Graph::load();
    let bad = g
        .members
        .iter()
        .filter(|m| m.as_str() != BINARY && g.direct(m, false).contains("anyhow"))
        .map(|m| format!("{m} depends on anyhow (libraries return typed errors)"))
        .collect();
    check("anyhow-only-in-the-binary", bad);
}

#[test]
fn only_the_binary_chooses_a_storage_backend() {
    let g = Graph::load();
    let bad = g
        .members
        .iter()
        .filter(|m| m.as_str() != BINARY)
        .flat_map(|m| {
            g.direct(m, true)
                .into_iter()
                .filter(|d| d.starts_with("oretrace-store-"))
                .map(move |d| format!("{m} links the backend {d} (only tests may)"))
        })
        .collect();
    check("only-the-binary-chooses-a-storage-backend", bad);
}

#[test]
fn only_the_server_serves_http() {
    let g = Graph::load();
    let bad = g
        .members
        .iter()
        // The registry's API and the witness (which any party runs beside
        // any log, knowing nothing of the ledger) serve HTTP; nothing else.
        .filter(|m| m.as_str() != "oretrace-server" && m.as_str() != "oretrace-witness")
        .flat_map(|m| {
            g.direct(m, true)
                .into_iter()
                .filter(|d| ["axum", "tower-http", "hyper", "tower"].contains(d))
                .map(move |d| {
                    format!("{m} depends on {d}: serving HTTP is oretrace-server's and oretrace-witness's")
                })
        })
        .collect();
    check("only-the-server-serves-http", bad);
}

#[test]
fn the_ledger_knows_no_sql_and_no_http() {
    let g = Graph::load();
    let bad = g
        .linked("oretrace-ledger")
        .into_iter()
        .filter(|(d, _)| {
            [
                "rusqlite",
                "libsqlite3-sys",
                "tokio-postgres",
                "axum",
                "hyper",
                "reqwest",
            ]
            .contains(&d.as_str())
        })
        .map(|(d, path)| format!("oretrace-ledger links {d} via {}", path.join(" → ")))
        .collect();
    check("the-ledger-knows-no-sql-and-no-http", bad);
}

#[test]
fn dev_only_crates_stay_out_of_the_product() {
    let g = Graph::load();
    let bad = g
        .linked(BINARY)
        .into_iter()
        .filter(|(d, _)| DEV_ONLY.contains(&d.as_str()))
        .map(|(d, path)| format!("the binary links {d} via {}", path.join(" → ")))
        .collect();
    check("dev-only-crates-stay-out-of-the-product", bad);
}

/// The ledger's feature that adds the memory backend, the conformance
/// suite and the fault-injecting store wrapper.
const TEST_SUPPORT: &str = "test-support";

/// What, among the `product` crates' manifests in `meta`, would turn on
/// the ledger's test support in the product: a normal (not dev, not
/// build) dependency on the ledger naming the feature, a feature of a
/// product crate forwarding to it, or the ledger's default features.
///
/// `cargo metadata` resolves features once for every target, tests and
/// benches included, so its resolved graph cannot tell the product's
/// features from the tests'; the manifests can.
fn test_support_enablers(meta: &Value, product: &BTreeSet<String>) -> Vec<String> {
    let mut bad = Vec::new();
    let forward = format!("oretrace-ledger/{TEST_SUPPORT}");
    let forward_weak = format!("oretrace-ledger?/{TEST_SUPPORT}");
    for package in meta["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().unwrap();
        if !product.contains(name) {
            continue;
        }
        for dep in package["dependencies"].as_array().unwrap() {
            let enables = dep["features"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == TEST_SUPPORT);
            if dep["name"] == "oretrace-ledger" && dep["kind"].is_null() && enables {
                bad.push(format!(
                    "{name}'s [dependencies] turn on oretrace-ledger/{TEST_SUPPORT}"
                ));
            }
        }
        for (feature, values) in package["features"].as_object().unwrap() {
            let forwards = values.as_array().unwrap().iter().any(|v| {
                v == forward.as_str()
                    || v == forward_weak.as_str()
                    || (name == "oretrace-ledger" && v == TEST_SUPPORT)
            });
            if forwards && !(name == "oretrace-ledger" && feature == TEST_SUPPORT) {
                bad.push(format!(
                    "{name}'s feature `{feature}` turns on oretrace-ledger/{TEST_SUPPORT}"
                ));
            }
        }
    }
    bad
}

/// The crates the binary is built from: itself and the workspace members
/// it links.
fn product_crates(g: &Graph) -> BTreeSet<String> {
    let mut product: BTreeSet<String> = g
        .linked(BINARY)
        .into_keys()
        .filter(|d| g.members.contains(d))
        .collect();
    product.insert(BINARY.to_owned());
    product
}

#[test]
fn test_support_stays_out_of_the_product() {
    let g = Graph::load();
    let product = product_crates(&g);
    assert!(product.contains("oretrace-ledger"), "{product:?}");
    check(
        "test-support-stays-out-of-the-product",
        test_support_enablers(&metadata(), &product),
    );
}

#[test]
fn every_crate_has_its_section_and_invariant_in_the_architecture() {
    let g = Graph::load();
    let text = std::fs::read_to_string(workspace_root().join("ARCHITECTURE.md"))
        .expect("reading ARCHITECTURE.md");
    let mut bad = Vec::new();
    for member in &g.members {
        let heading = format!("(`{member}`)");
        let Some(start) = text
            .lines()
            .position(|l| l.starts_with("### ") && l.contains(&heading))
        else {
            bad.push(format!("{member} has no `### … ({member})` section"));
            continue;
        };
        let section: Vec<&str> = text
            .lines()
            .skip(start + 1)
            .take_while(|l| !l.starts_with("#"))
            .collect();
        if !section
            .iter()
            .any(|l| l.starts_with("**Architecture Invariant:**"))
        {
            bad.push(format!(
                "{member}'s section has no `**Architecture Invariant:**` line"
            ));
        }
    }
    check("every-crate-is-described", bad);
}

/// The layer table at the top of `ARCHITECTURE.md` states each crate's
/// oretrace dependencies: it must say exactly what the manifests say, and
/// every dependency must sit in a lower layer.
#[test]
fn the_layer_table_is_true() {
    let g = Graph::load();
    let text = std::fs::read_to_string(workspace_root().join("ARCHITECTURE.md"))
        .expect("reading ARCHITECTURE.md");
    let mut layers: BTreeMap<String, (u32, Option<BTreeSet<String>>)> = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "", layer, `crate` …, depends on, note, ""
        if cells.len() < 5 {
            continue;
        }
        let Ok(layer) = cells[1].parse::<u32>() else {
            continue;
        };
        let name = cells[2]
            .split('`')
            .nth(1)
            .expect("a crate name in backquotes")
            .to_owned();
        let deps = (name != BINARY).then(|| {
            cells[3]
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty() && *d != "—")
                .map(|d| format!("oretrace-{d}"))
                .collect()
        });
        layers.insert(name, (layer, deps));
    }
    let mut bad = Vec::new();
    for member in &g.members {
        if DEV_ONLY.contains(&member.as_str()) {
            continue;
        }
        let Some((layer, stated)) = layers.get(member) else {
            bad.push(format!("{member} is not in the layer table"));
            continue;
        };
        let actual: BTreeSet<String> = g
            .direct(member, true)
            .into_iter()
            .filter(|d| g.members.contains(*d))
            .map(str::to_owned)
            .collect();
        if let Some(stated) = stated
            && *stated != actual
        {
            bad.push(format!(
                "{member}: the table says {stated:?}, the manifest says {actual:?}"
            ));
        }
        for dep in &actual {
            match layers.get(dep) {
                Some((l, _)) if l < layer => {}
                Some((l, _)) => bad.push(format!(
                    "{member} (layer {layer}) depends on {dep} (layer {l}), not below it"
                )),
                None => bad.push(format!("{dep} is not in the layer table")),
            }
        }
    }
    check("the-layer-table-is-true", bad);
}

/// The checker itself: a made-up graph breaking a rule is caught, so the
/// rules above cannot pass by reading nothing.
#[test]
fn the_checks_see_a_violation() {
    let g = Graph {
        members: ["oretrace-domain", "oretrace-ledger"]
            .map(String::from)
            .into(),
        deps: BTreeMap::from([
            (
                "oretrace-domain".to_owned(),
                vec![("oretrace-ledger".to_owned(), true)],
            ),
            (
                "oretrace-ledger".to_owned(),
                vec![("tokio".to_owned(), true)],
            ),
            ("tokio".to_owned(), vec![("mio".to_owned(), true)]),
        ]),
    };
    let linked = g.linked("oretrace-domain");
    assert_eq!(
        linked["mio"],
        ["oretrace-domain", "oretrace-ledger", "tokio", "mio"]
    );
    // A product crate turning on the ledger's test support, three ways;
    // the same in [dev-dependencies], or in a crate outside the product,
    // is fine.
    let ledger_dep = |kind: Value| serde_json::json!({"name": "oretrace-ledger", "kind": kind, "features": [TEST_SUPPORT]});
    let meta = serde_json::json!({"packages": [
        {"name": "oretrace-server", "dependencies": [ledger_dep(Value::Null)], "features": {}},
        {"name": "oretrace-store-sqlite", "dependencies": [ledger_dep("dev".into())],
         "features": {"testing": ["oretrace-ledger?/test-support"]}},
        {"name": "oretrace-ledger", "dependencies": [],
         "features": {"default": [TEST_SUPPORT], TEST_SUPPORT: []}},
        {"name": "oretrace-fuzz-targets", "dependencies": [ledger_dep(Value::Null)], "features": {}},
    ]});
    let product = [
        "oretrace-server",
        "oretrace-store-sqlite",
        "oretrace-ledger",
    ]
    .map(String::from)
    .into();
    assert_eq!(
        test_support_enablers(&meta, &product),
        [
            "oretrace-server's [dependencies] turn on oretrace-ledger/test-support",
            "oretrace-store-sqlite's feature `testing` turns on oretrace-ledger/test-support",
            "oretrace-ledger's feature `default` turns on oretrace-ledger/test-support",
        ]
    );
    let real = Graph::load();
    assert!(real.linked(BINARY).contains_key("tokio"));
    assert!(
        real.direct("oretrace-ledger", true)
            .contains("oretrace-domain")
    );
}
