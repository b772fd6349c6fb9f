//! The ISO 4217 codes the registry takes are exactly those the OCDS 1.1.5
//! `currency` codelist lists as in use (no "Valid Until" date), so an
//! agreement's amounts export as OCDS values without translation.

use oretrace_domain::money::{CURRENCIES, Currency};

#[test]
fn the_currency_list_is_the_ocds_codelist_in_use() {
    let csv = std::fs::read_to_string(
        oretrace_benchkit::conformance("ocds").join("codelists/currency.csv"),
    )
    .unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("Code,Title,Valid Until"));
    let mut in_use = Vec::new();
    let mut withdrawn = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let code = line.split(',').next().unwrap();
        if line.ends_with(',') {
            in_use.push(code);
        } else {
            withdrawn.push(code);
        }
    }
    assert_eq!(CURRENCIES, in_use.as_slice());
    assert!(!withdrawn.is_empty());
    for code in withdrawn {
        assert!(Currency::parse(code).is_err(), "{code} is withdrawn");
    }
}
