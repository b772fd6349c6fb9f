//! `oretrace passport` on the reference scenario as `oretrace demo` loads
//! it: the rare-earth concentrate's passport is saved, verified offline
//! by `oretrace passport verify` (the issuer's JWK set from
//! `oretrace passport key`, the log's vkey from `log.key`) and, for its
//! JWS, by PyPI `jwcrypto`; a passport with one changed byte — in the
//! payload, in the signature, in an embedded receipt (re-signed with the
//! issuer's key, so only the receipt is wrong) — is refused, naming what
//! failed, and so is one whose illustrative figures are relabelled
//! `reported`.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oretrace_domain::jose::CredentialKey;
use serde_json::{Value, json};
use support::{oretrace, path, project_root, vkey_of};

const REE: &str = "urn:oretrace:lot:fwo:ree-concentrate-0001";
const SB: &str = "urn:oretrace:lot:fwo:sb-concentrate-0001";
const CU: &str = "urn:oretrace:lot:fwo:cu-concentrate-0001";

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("ORETRACE_INTEROP_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = project_root().join(".venv/interop/bin/python");
    assert!(
        venv.exists(),
        "no {}: run `bash .ci/interop-env` to install jwcrypto",
        venv.display()
    );
    venv
}

/// PyPI jwcrypto's verdict on a passport's JWS: (exit code, output).
fn jwcrypto(jwks: &Path, passport: &Path) -> (i32, String) {
    let out = Command::new(python())
        .arg(project_root().join("tests/interop/verify_passport_jws.py"))
        .args([path(jwks), path(passport)])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn payload(jws: &str) -> Value {
    let part = jws.trim().split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// `credential` signed again with the data directory's credential key
/// under the same header.
fn resign(data: &Path, jws: &str, credential: &Value) -> String {
    let key = CredentialKey::from_private_jwk(
        std::fs::read_to_string(data.join("credential.jwk"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let header = URL_SAFE_NO_PAD
        .decode(jws.trim().split('.').next().unwrap())
        .unwrap();
    let header: serde_json::Map<String, Value> = serde_json::from_slice(&header).unwrap();
    key.sign_compact(&header, credential.to_string().as_bytes())
}

struct Demo {
    _tmp: tempfile::TempDir,
    _server: support::Server,
    dir: PathBuf,
    data: PathBuf,
    base: String,
    jwks: PathBuf,
    vkey: String,
}

fn demo() -> Demo {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let server = support::served_demo(&data);
    let base = server.base();
    let key = oretrace(&["passport", "key", "--data", path(&data)]);
    assert_eq!(key.code, 0, "{}", key.stderr);
    let jwks = tmp.path().join("jwks.json");
    std::fs::write(&jwks, &key.stdout).unwrap();
    Demo {
        dir: tmp.path().to_owned(),
        vkey: vkey_of(&data.join("log.key")),
        _tmp: tmp,
        _server: server,
        data,
        base,
        jwks,
    }
}

impl Demo {
    fn save(&self, lot: &str, name: &str) -> PathBuf {
        let out = self.dir.join(name);
        let run = oretrace(&["passport", lot, "--server", &self.base, "--out", path(&out)]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        out
    }

    fn verify(&self, file: &Path) -> support::Run {
        oretrace(&[
            "passport",
            "verify",
            path(file),
            "--issuer-jwks",
            path(&self.jwks),
            "--log-vkey",
            &self.vkey,
        ])
    }
}

#[test]
fn the_demo_concentrates_passports_verify_offline_and_with_jwcrypto() {
    let d = demo();
    let file = d.save(REE, "ree.jwt");
    let run = d.verify(&file);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("verified: the passport of {REE}")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("figures: illustrative"),
        "{}",
        run.stdout
    );
    let (code, out) = jwcrypto(&d.jwks, &file);
    assert_eq!(code, 0, "{out}");
    let said: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(said["subject"], REE);
    assert_eq!(said["header"]["typ"], "vc+jwt");
    assert_eq!(said["header"]["cty"], "vc");
    assert_eq!(said["header"]["alg"], "EdDSA");

    let jws = std::fs::read_to_string(&file).unwrap();
    let c = payload(&jws);
    let s = &c["credentialSubject"];
    assert_eq!(s["id"], REE);
    assert_eq!(s["figures"], "illustrative");
    // Received at USSM as 4.49 kg; its neodymium all from Loe Shilman (PK).
    assert_eq!(s["dimensions"]["weight"]["value"], "4.49");
    let nd = s["materialsProvenance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["element"] == "Nd")
        .unwrap();
    assert_eq!(nd["bySite"][0]["site"], "fwo-loe-shilman");
    assert_eq!(nd["bySite"][0]["share"], "1");
    assert_eq!(
        nd["byCountry"],
        json!([{"country": "PK", "share": "1",
        "containedKg": nd["containedKg"].clone()}])
    );
    // The latest Nd assay is USSM's re-assay: Nd2O3 16.5 % = Nd 14.146374 %.
    let nd_assay = s["assays"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["element"] == "Nd")
        .unwrap();
    assert_eq!(
        (
            &nd_assay["analyte"],
            &nd_assay["elementPercent"],
            &nd_assay["laboratory"]
        ),
        (&json!("Nd2O3"), &json!("14.146374"), &json!("ussm"))
    );
    // The export consignment, reconciled for this lot alone: contained Nd
    // 2.003968 % lower, just outside 2 %, the one flag.
    let r = s["reconciliation"].as_array().unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["shipment"], "fwo-export-2025-0001");
    assert_eq!(r[0]["lots"].as_array().unwrap().len(), 1);
    assert_eq!(r[0]["flagged"], 1);
    let contained = r[0]["lots"][0]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["quantity"] == "contained")
        .unwrap();
    assert_eq!(contained["relativePercent"], "-2.003968");
    assert_eq!(contained["within"], false);
    // The verdicts of the loaded rule packs, as GET /lots/{id}/compliance
    // gives them: every record a rule rests on is among the verdict
    // records, and has its receipt in the passport.
    let packs = s["compliance"].as_array().unwrap();
    let verdict = |pack: &str| {
        packs
            .iter()
            .find(|p| p["pack"] == pack)
            .unwrap_or_else(|| panic!("{pack} in {packs:#?}"))["verdict"]
            .clone()
    };
    assert_eq!(verdict("dfars-252.225-7052"), "pass");
    assert_eq!(verdict("feoc-control"), "pass");
    assert_eq!(verdict("eu-crma"), "fail");
    let verdict_records: std::collections::BTreeSet<u64> = s["verdictRecords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    for p in packs {
        for r in p["rules"].as_array().unwrap() {
            for i in r["evidence"].as_array().unwrap() {
                assert!(
                    verdict_records.contains(&i.as_u64().unwrap()),
                    "{i} of {r:#}"
                );
            }
        }
    }
    // One receipt per record the subject cites, after the checkpoint.
    let mut cited: std::collections::BTreeSet<u64> = s["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    cited.extend(verdict_records);
    assert_eq!(c["evidence"].as_array().unwrap().len(), cited.len() + 1);

    // The other two concentrates verify too.
    for (lot, name) in [(SB, "sb.jwt"), (CU, "cu.jwt")] {
        let file = d.save(lot, name);
        let run = d.verify(&file);
        assert_eq!(run.code, 0, "{lot}: {}{}", run.stdout, run.stderr);
        let (code, out) = jwcrypto(&d.jwks, &file);
        assert_eq!(code, 0, "{lot}: {out}");
    }
}

#[test]
fn a_passport_with_one_changed_byte_is_refused() {
    let d = demo();
    let file = d.save(REE, "ree.jwt");
    let jws = std::fs::read_to_string(&file).unwrap();
    let jws = jws.trim();
    let dots: Vec<usize> = jws.match_indices('.').map(|(i, _)| i).collect();
    let flip = |at: usize| {
        let mut bytes = jws.as_bytes().to_vec();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    let write = |name: &str, text: &str| {
        let p = d.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };

    // One byte of the payload, one of the signature: the JWS fails, here
    // and in jwcrypto.
    for (name, at) in [
        ("payload.jwt", (dots[0] + dots[1]) / 2),
        ("signature.jwt", dots[1] + 10),
    ] {
        let changed = write(name, &flip(at));
        let run = d.verify(&changed);
        assert_eq!(run.code, 1, "{name}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("the signature"),
            "{name}: {}",
            run.stderr
        );
        let (code, out) = jwcrypto(&d.jwks, &changed);
        assert_eq!(code, 1, "{name}: jwcrypto accepted it: {out}");
    }

    // One byte of an embedded receipt's inclusion proof, re-signed by the
    // issuer: the JWS verifies (jwcrypto agrees), the receipt does not.
    let mut c = payload(jws);
    let item = c["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| {
            e["receipt"]
                .as_str()
                .is_some_and(|r| r.split("\n\n").next().unwrap().lines().count() > 3)
        })
        .unwrap();
    let index = c["evidence"][item]["index"].as_u64().unwrap();
    let receipt = c["evidence"][item]["receipt"].as_str().unwrap().to_owned();
    let proof_line = receipt.lines().nth(3).unwrap();
    let changed_line = format!(
        "{}{}",
        if proof_line.starts_with('A') {
            "B"
        } else {
            "A"
        },
        &proof_line[1..]
    );
    c["evidence"][item]["receipt"] = json!(receipt.replacen(proof_line, &changed_line, 1));
    let changed = write("receipt.jwt", &resign(&d.data, jws, &c));
    let (code, out) = jwcrypto(&d.jwks, &changed);
    assert_eq!(code, 0, "the re-signed JWS is valid: {out}");
    let run = d.verify(&changed);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "the receipt of record {index} (evidence item {item})"
        )),
        "{}",
        run.stderr
    );

    // A receipt left out: the subject cites a record nothing proves.
    let mut c = payload(jws);
    let dropped = c["evidence"][1]["index"].as_u64().unwrap();
    c["evidence"].as_array_mut().unwrap().remove(1);
    let changed = write("dropped.jwt", &resign(&d.data, jws, &c));
    let run = d.verify(&changed);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(&format!("record {dropped}: the subject cites it")),
        "{}",
        run.stderr
    );

    // The figures relabelled `reported`: the records say illustrative.
    let mut c = payload(jws);
    c["credentialSubject"]["figures"] = json!("reported");
    let changed = write("reported.jwt", &resign(&d.data, jws, &c));
    let run = d.verify(&changed);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("records it rests on are illustrative"),
        "{}",
        run.stderr
    );

    // Another log's key: the checkpoint fails.
    let run = oretrace(&[
        "passport",
        "verify",
        path(&file),
        "--issuer-jwks",
        path(&d.jwks),
        "--log-vkey",
        &support::vkey(9),
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("the checkpoint"), "{}", run.stderr);

    // Another issuer's key set: the signature's key is not in it (exit 1);
    // an unreadable key set is an error (exit 2).
    let other = write(
        "other.json",
        &oretrace_domain::jose::jwk_set(&[CredentialKey::from_seed([3; 32]).public().clone()])
            .to_string(),
    );
    let run = oretrace(&[
        "passport",
        "verify",
        path(&file),
        "--issuer-jwks",
        path(&other),
        "--log-vkey",
        &d.vkey,
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("not in the issuer's key set"),
        "{}",
        run.stderr
    );
    let garbage = write("garbage.json", "{");
    let run = oretrace(&[
        "passport",
        "verify",
        path(&file),
        "--issuer-jwks",
        path(&garbage),
        "--log-vkey",
        &d.vkey,
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
}

#[test]
fn an_unknown_lot_has_no_passport() {
    let d = demo();
    let run = oretrace(&["passport", "urn:oretrace:lot:fwo:nope", "--server", &d.base]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("404"), "{}", run.stderr);
}
