//! The HTML pages. Each reads the public JSON answers of the handlers of
//! what it shows and fills a view model of `oretrace_portal`.

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use oretrace_ledger::Store;
use oretrace_portal::{
    Bar, Bars, Cell, Clause, Dashboard, DownloadsPage, Fact, FlowsPage, MapPage, RecordPage,
    SearchPage, Section, Table, Verify, render,
};
use serde_json::Value;

use super::data::{self, FLOW_ELEMENTS, MAX_QUERY_CHARS};
use super::{Ctx, PageFuture, encode, illustrative, json_of, page, path_id, text};
use crate::{
    ApiError, AppState, agreements, anomalies, compliance, reconciliation, records, registry,
};

fn fact(label: &str, value: Cell) -> Fact {
    Fact {
        label: label.to_owned(),
        value,
    }
}

fn table(caption: &str, head: &[&str], rows: Vec<Vec<Cell>>) -> Table {
    Table {
        caption: caption.to_owned(),
        head: head.iter().map(|h| (*h).to_owned()).collect(),
        rows,
    }
}

fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

fn href(base: &str, id: &str) -> String {
    format!("/{base}/{}", encode(id))
}

/// The leaf hash (hex) of the record at `index`, when it can be read.
async fn leaf_hash<S: Store>(state: &AppState<S>, index: u64) -> String {
    let ledger = state.ledger.clone();
    tokio::task::spawn_blocking(move || {
        ledger
            .store()
            .entry(index)
            .ok()
            .flatten()
            .map(|entry| oretrace_tlog::hash::leaf_hash(&entry).to_hex())
            .unwrap_or_default()
    })
    .await
    .unwrap_or_default()
}

async fn verify<S: Store>(state: &AppState<S>, index: u64) -> Verify {
    Verify {
        index,
        hash: leaf_hash(state, index).await,
    }
}

fn no_pairs() -> Query<Vec<(String, String)>> {
    Query(Vec::new())
}

// ---- the dashboard -------------------------------------------------------

pub(crate) fn dashboard<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    page(state, request, |state, ctx, _| async move {
        let ledger = state.ledger.clone();
        let (cp, counts, recent_from) = crate::blocking(&ledger, |l| {
            let (cp, _) = l.checkpoint()?;
            let store = l.store();
            const CAP: usize = 10_000;
            let select = oretrace_ledger::agreements::state::Select {
                terms: Vec::new(),
                overdue_on: None,
                after: None,
                limit: CAP + 1,
            };
            let events = store.select_events(&oretrace_ledger::store::EventSelect {
                limit: CAP + 1,
                ..Default::default()
            })?;
            let counts = [
                ("count.parties", store.parties(None, CAP + 1)?.len()),
                ("count.sites", store.sites(None, CAP + 1)?.len()),
                ("count.lots", store.lots(None, CAP + 1)?.len()),
                ("count.events", events.len()),
                ("count.agreements", store.agreements(&select)?.len()),
                ("count.reports", store.reports(&select)?.len()),
            ];
            let size = cp.size();
            Ok((
                cp,
                counts.map(|(k, n)| (k, n, n > CAP)),
                size.saturating_sub(10),
            ))
        })
        .await?;
        let mut checkpoint = checkpoint_facts(&ctx, cp.origin(), cp.size(), &cp.root().to_base64());
        let cosigned = state.witnessing.as_ref().and_then(|w| w.cosigned_by());
        if let Some((size, by)) = &cosigned {
            checkpoint.push(fact(
                ctx.t("checkpoint.cosigned_by"),
                Cell::text(by.join(", ")),
            ));
            checkpoint.push(fact(
                ctx.t("checkpoint.cosigned_size"),
                Cell::num(ctx.int(*size)),
            ));
        }
        let counts = counts
            .iter()
            .map(|(k, n, more)| {
                let mut v = ctx.int(*n as u64);
                if *more {
                    v.push('+');
                }
                fact(ctx.t(k), Cell::num(v))
            })
            .collect();
        let mut rows = Vec::new();
        for index in (recent_from..cp.size()).rev() {
            let Ok(v) =
                json_of(records::record(State(state.clone()), Path(index.to_string())).await).await
            else {
                continue;
            };
            let r = &v["record"];
            let (kind, id) = (text(&v, "kind"), subject(r));
            rows.push(vec![
                Cell::num(ctx.int(index)).link(format!("/records/{index}")),
                Cell::code(kind),
                Cell::code(id.0.clone()).link(id.1.unwrap_or_else(|| format!("/records/{index}"))),
                Cell::text(ctx.date(&text(r, "time"))),
                Cell::text("").illustrative(illustrative(r)),
            ]);
        }
        let recent = table(
            ctx.t("dashboard.recent"),
            &[
                ctx.t("col.index"),
                ctx.t("col.kind"),
                ctx.t("col.subject"),
                ctx.t("col.time"),
                ctx.t("col.figures"),
            ],
            rows,
        );
        let (anomalies, anomalies_note) =
            match json_of(anomalies::anomalies(State(state.clone()), no_pairs()).await).await {
                Ok(v) => {
                    let rows = list(&v["findings"])
                        .iter()
                        .take(20)
                        .map(|f| {
                            vec![
                                Cell::code(text(f, "kind")),
                                Cell::code(
                                    ["lots", "shipments", "transformations", "sites"]
                                        .iter()
                                        .flat_map(|k| list(&f[*k]))
                                        .filter_map(Value::as_str)
                                        .take(4)
                                        .collect::<Vec<_>>()
                                        .join(", "),
                                ),
                                Cell::code(text(f, "what")).illustrative(illustrative(f)),
                            ]
                        })
                        .collect();
                    let note = format!(
                        "{} {}",
                        ctx.t("dashboard.anomalies_scanned"),
                        ctx.int(v["records"].as_u64().unwrap_or(0))
                    );
                    (rows, Some(note))
                }
                Err(e) => (Vec::new(), Some(e.to_string())),
            };
        let anomalies = table(
            ctx.t("dashboard.anomalies"),
            &[ctx.t("col.kind"), ctx.t("col.subject"), ctx.t("col.detail")],
            anomalies,
        );
        let overdue_pairs = Query(vec![("overdue".to_owned(), "true".to_owned())]);
        let overdue = json_of(agreements::agreements(State(state.clone()), overdue_pairs).await)
            .await
            .unwrap_or(Value::Null);
        let mut rows = Vec::new();
        for a in list(&overdue["agreements"]).iter().take(50) {
            let id = text(a, "id");
            if a["disclosure_overdue"] == true {
                rows.push(vec![
                    Cell::code(id.clone()).link(href("agreements", &id)),
                    Cell::text(ctx.t("overdue.disclosure")),
                    Cell::text(ctx.date(&text(a, "disclose_by"))),
                ]);
            }
            for p in list(&a["pledge_status"]) {
                if p["overdue"] == true {
                    rows.push(vec![
                        Cell::code(id.clone()).link(href("agreements", &id)),
                        Cell::text(format!(
                            "{}: {}",
                            ctx.t("overdue.pledge"),
                            text(p, "description")
                        ))
                        .illustrative(illustrative(a)),
                        Cell::text(ctx.date(&text(p, "due"))),
                    ]);
                }
            }
        }
        let overdue = table(
            ctx.t("dashboard.overdue"),
            &[ctx.t("col.agreement"), ctx.t("col.what"), ctx.t("col.due")],
            rows,
        );
        let page = Dashboard {
            head: ctx.head(ctx.t("dashboard.heading")),
            checkpoint,
            witnessed: cosigned.is_some(),
            counts,
            recent,
            anomalies,
            anomalies_note,
            overdue,
        };
        Ok(ctx.html(StatusCode::OK, render(&page)))
    })
}

fn checkpoint_facts(ctx: &Ctx, origin: &str, size: u64, root: &str) -> Vec<Fact> {
    vec![
        fact(ctx.t("checkpoint.origin"), Cell::code(origin)),
        fact(ctx.t("checkpoint.size"), Cell::num(ctx.int(size))),
        fact(ctx.t("checkpoint.root"), Cell::code(root)),
        fact(
            ctx.t("checkpoint.note"),
            Cell::text(ctx.t("checkpoint.note_link")).link("/checkpoint"),
        ),
    ]
}

/// The first of `keys` that `value` has as text.
fn first_text(value: &Value, keys: &[&str]) -> String {
    keys.iter()
        .map(|k| text(value, k))
        .find(|t| !t.is_empty())
        .unwrap_or_default()
}

/// What a record is about, and its page.
fn subject(record: &Value) -> (String, Option<String>) {
    let kind = text(record, "kind");
    let id = text(record, "id");
    match kind.as_str() {
        "party" => (id.clone(), Some(href("parties", &id))),
        "site" => (id.clone(), Some(href("sites", &id))),
        "lot" => (id.clone(), Some(href("lots", &id))),
        "agreement" => (id.clone(), Some(href("agreements", &id))),
        "report" => (id.clone(), Some(href("reports", &id))),
        "countersignature" | "disclosure" | "progress" => {
            let a = text(record, "agreement");
            (a.clone(), Some(href("agreements", &a)))
        }
        "assay" => {
            let l = text(record, "lot");
            (l.clone(), Some(href("lots", &l)))
        }
        "epcis_event" => {
            let e = text(record, "event_id");
            (e.clone(), Some(href("events", &e)))
        }
        _ => (first_text(record, &["id", "shipment", "agreement"]), None),
    }
}

// ---- parties, sites, events ---------------------------------------------

pub(crate) fn party<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    page(state, request, |state, ctx, mut parts| async move {
        let id = path_id(&mut parts, &state).await?;
        let v = json_of(registry::party(State(state.clone()), Path(id.clone())).await).await?;
        let r = &v["record"];
        let ill = illustrative(r);
        let mut facts = vec![
            fact(ctx.t("field.id"), Cell::code(id.clone())),
            fact(ctx.t("field.name"), Cell::code(text(r, "name"))),
            fact(ctx.t("field.kind"), Cell::code(text(r, "party_kind"))),
            fact(ctx.t("field.country"), Cell::code(text(r, "country"))),
            fact(
                ctx.t("field.registered"),
                Cell::text(ctx.date(&text(r, "time"))),
            ),
            fact(ctx.t("field.figures"), figures_cell(&ctx, r)),
        ];
        let owners: Vec<Vec<Cell>> = list(&r["owners"])
            .iter()
            .map(|o| {
                let owner = text(o, "owner");
                let unconfirmed = list(&v["unconfirmed_owners"])
                    .iter()
                    .any(|u| u == &o["owner"]);
                vec![
                    Cell::code(owner.clone()).link(href("parties", &owner)),
                    Cell::num(format!("{} %", ctx.num(&text(o, "share_percent"))))
                        .illustrative(ill),
                    Cell::text(if o["controls"] == true {
                        ctx.t("label.yes")
                    } else {
                        ctx.t("label.no")
                    }),
                    Cell::text(if unconfirmed {
                        ctx.t("label.unconfirmed")
                    } else {
                        ctx.t("label.confirmed")
                    }),
                ]
            })
            .collect();
        facts.push(fact(
            ctx.t("field.keys"),
            Cell::num(ctx.int(list(&r["keys"]).len() as u64)),
        ));
        let sections = vec![Section {
            heading: ctx.t("party.owners").to_owned(),
            table: Some(table(
                ctx.t("party.owners"),
                &[
                    ctx.t("col.owner"),
                    ctx.t("col.share"),
                    ctx.t("col.controls"),
                    ctx.t("col.confirmation"),
                ],
                owners,
            )),
            ..Section::default()
        }];
        let index = v["index"].as_u64().unwrap_or(0);
        let page = RecordPage {
            head: ctx.head(text(r, "name")),
            kind: ctx.t("kind.party").to_owned(),
            heading: text(r, "name"),
            report_banner: false,
            illustrative: ill,
            facts,
            sections,
            verify: vec![verify(&state, index).await],
        };
        Ok(ctx.html(StatusCode::OK, render(&page)))
    })
}

fn figures_cell(ctx: &Ctx, record: &Value) -> Cell {
    if illustrative(record) {
        Cell::text(ctx.t("label.illustrative"))
    } else {
        Cell::text(ctx.t("label.reported"))
    }
}

pub(crate) fn site<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    page(state, request, |state, ctx, mut parts| async move {
        let id = path_id(&mut parts, &state).await?;
        let v = json_of(registry::site(State(state.clone()), Path(id.clone())).await).await?;
        let r = &v["record"];
        let ill = illustrative(r);
        let operator = text(r, "operator");
        let location = &r["location"];
        let approx = if r["approximate"] == true {
            ctx.t("label.approximate")
        } else {
            ctx.t("label.exact")
        };
        let facts = vec![
            fact(ctx.t("field.id"), Cell::code(id.clone())),
            fact(ctx.t("field.name"), Cell::code(text(r, "name"))),
            fact(ctx.t("field.kind"), Cell::code(text(r, "site_kind"))),
            fact(
                ctx.t("field.operator"),
                Cell::code(operator.clone()).link(href("parties", &operator)),
            ),
            fact(ctx.t("field.country"), Cell::code(text(r, "country"))),
            fact(
                ctx.t("field.coordinates"),
                Cell::num(format!(
                    "{}, {} ({approx})",
                    ctx.num(&text(location, "lat")),
                    ctx.num(&text(location, "lon"))
                )),
            ),
            fact(
                ctx.t("field.registered"),
                Cell::text(ctx.date(&text(r, "time"))),
            ),
            fact(ctx.t("field.figures"), figures_cell(&ctx, r)),
        ];
        let sections = vec![Section {
            heading: ctx.t("site.custody").to_owned(),
            links: vec![oretrace_portal::Link {
                text: ctx.t("site.custody_link").to_owned(),
                href: format!("{}/custody-model", href("sites", &id)),
            }],
            ..Section::default()
        }];
        let index = v["index"].as_u64().unwrap_or(0);
        let page = RecordPage {
            head: ctx.head(text(r, "name")),
            kind: ctx.t("kind.site").to_owned(),
            heading: text(r, "name"),
            report_banner: false,
            illustrative: ill,
            facts,
            sections,
            verify: vec![verify(&state, index).await],
        };
        Ok(ctx.html(StatusCode::OK, render(&page)))
    })
}

pub(crate) fn event<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    page(state, request, |state, ctx, mut parts| async move {
        let id = path_id(&mut parts, &state).await?;
        // The event as captured, out of the binding's query document.
        let mut as_captured = axum::http::HeaderMap::new();
        as_captured.insert(
            "GS1-EPC-Format",
            axum::http::HeaderValue::from_static("Never_Translates"),
        );
        let document = json_of(
            crate::epcis::query::event(State(state.clone()), as_captured, Path(id.clone())).await,
        )
        .await?;
        let e = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0].clone();
        let ill = e["oretrace:figures"] == "illustrative";
        let index = {
            let ledger = state.ledger.clone();
            let wanted = id.clone();
            crate::blocking(&ledger, move |l| {
                Ok(l.store().event(&wanted)?.map(|e| e.index()))
            })
            .await?
        };
        let mut facts = vec![
            fact(ctx.t("field.id"), Cell::code(id.clone())),
            fact(ctx.t("field.kind"), Cell::code(text(&e, "type"))),
            fact(ctx.t("event.biz_step"), Cell::code(text(&e, "bizStep"))),
            fact(
                ctx.t("event.time"),
                Cell::text(ctx.date(&text(&e, "eventTime"))),
            ),
            fact(
                ctx.t("event.location"),
                Cell::code(text(&e["bizLocation"], "id")),
            ),
            fact(
                ctx.t("field.figures"),
                if ill {
                    Cell::text(ctx.t("label.illustrative"))
                } else {
                    Cell::text(ctx.t("label.reported"))
                },
            ),
        ];
        if let Some(t) = e.get("transformationID") {
            facts.push(fact(
                ctx.t("event.transformation"),
                Cell::code(t.as_str().unwrap_or_default()),
            ));
        }
        let mut rows = Vec::new();
        for key in ["epcList", "inputEPCList", "outputEPCList", "childEPCs"] {
            for epc in list(&e[key]) {
                let epc = epc.as_str().unwrap_or_default().to_owned();
                rows.push(vec![
                    Cell::code(epc.clone()).link(href("lots", &epc)),
                    Cell::code(key),
                    Cell::text(""),
                ]);
            }
        }
        for key in [
            "quantityList",
            "inputQuantityList",
            "outputQuantityList",
            "childQuantityList",
        ] {
            for q in list(&e[key]) {
                let class = text(q, "epcClass");
                rows.push(vec![
                    Cell::code(class.clone()).link(href("lots", &class)),
                    Cell::code(key),
                    Cell::num(format!(
                        "{} {}",
                        ctx.num(&text(q, "quantity")),
                        text(q, "uom")
                    ))
                    .illustrative(ill),
                ]);
            }
        }
        let sections = vec![Section {
            heading: ctx.t("event.what").to_owned(),
            table: Some(table(
                ctx.t("event.what"),
                &[ctx.t("col.lot"), ctx.t("col.role"), ctx.t("col.quantity")],
                rows,
            )),
            links: vec![oretrace_portal::Link {
                text: ctx.t("event.json").to_owned(),
                // The query interface answers JSON to a browser too.
                href: format!("/events?EQ_eventID={}", encode(&id)),
            }],
            ..Section::default()
        }];
        let verify = match index {
            Some(i) => vec![verify(&state, i).await],
            None => Vec::new(),
        };
        let page = RecordPage {
            head: ctx.head(format!("{} {}", ctx.t("kind.event"), text(&e, "bizStep"))),
            kind: ctx.t("kind.event").to_owned(),
            heading: format!("{} · {}", text(&e, "type"), text(&e, "bizStep")),
            report_banner: false,
            illustrative: ill,
            facts,
            sections,
            verify,
        };
        Ok(ctx.html(StatusCode::OK, render(&page)))
    })
}

// ---- lots ------------------------------------------------------------------

pub(crate) fn lot<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    page(state, request, |state, ctx, mut parts| async move {
        let id = path_id(&mut parts, &state).await?;
        let v = json_of(registry::lot(State(state.clone()), Path(id.clone())).await).await?;
        let ill = illustrative(&v);
        let mass = |m: &Value| format!("{} {}", ctx.num(&text(m, "value")), text(m, "unit"));
        let custodian = text(&v, "custodian");
        let site = text(&v, "site");
        let origin_site = text(&v, "origin_site");
        let mut facts = vec![
            fact(ctx.t("field.id"), Cell::code(id.clone())),
            fact(
                ctx.t("lot.commodity"),
                Cell::code(format!("{} · {}", text(&v, "commodity"), text(&v, "form"))),
            ),
            fact(ctx.t("lot.status"), Cell::code(text(&v, "status"))),
            fact(
                ctx.t("lot.wet_mass"),
                Cell::num(mass(&v["wet_mass"])).illustrative(ill),
            ),
            fact(
                ctx.t("lot.moisture"),
                Cell::num(format!("{} %", ctx.num(&text(&v, "moisture_percent"))))
                    .illustrative(ill),
            ),
            fact(
                ctx.t("lot.custodian"),
                Cell::code(custodian.clone()).link(href("parties", &custodian)),
            ),
            fact(
                ctx.t("lot.site"),
                Cell::code(site.clone()).link(href("sites", &site)),
            ),
            fact(
                ctx.t("lot.origin_site"),
                Cell::code(origin_site.clone()).link(href("sites", &origin_site)),
            ),
            fact(
                ctx.t("lot.created"),
                Cell::text(ctx.date(&text(&v, "created"))),
            ),
        ];
        if v["received_mass"].is_object() {
            facts.push(fact(
                ctx.t("lot.received_mass"),
                Cell::num(mass(&v["received_mass"])).illustrative(ill),
            ));
        }
        for input in list(&v["inputs"]) {
            let input = input.as_str().unwrap_or_default();
            facts.push(fact(
                ctx.t("lot.input"),
                Cell::code(input).link(href("lots", input)),
            ));
        }
        let mut sections = Vec::new();
        // Grades and assays.
        let grades = list(&v["element_percent"])
            .iter()
            .map(|g| {
                vec![
                    Cell::code(g[0].as_str().unwrap_or_default()),
                    Cell::num(format!("{} %", ctx.num(g[1].as_str().unwrap_or_default())))
                        .illustrative(ill),
                ]
            })
            .collect();
        sections.push(Section {
            heading: ctx.t("lot.assays").to_owned(),
            note: Some(ctx.t("lot.assays_note").to_owned()),
            table: Some(table(
                ctx.t("lot.assays"),
                &[ctx.t("col.element"), ctx.t("col.grade")],
                grades,
            )),
            ..Section::default()
        });
        // The records of the lot, as a timeline.
        let events = list(&v["events"])
            .iter()
            .take(200)
            .map(|e| {
                let r = &e["record"];
                let index = e["index"].as_u64().unwrap_or(0);
                let (what, time) = if text(r, "kind") == "epcis_event" {
                    (
                        format!(
                            "{} · {}",
                            text(&r["event"], "type"),
                            text(&r["event"], "bizStep")
                        ),
                        text(&r["event"], "eventTime"),
                    )
                } else {
                    (text(r, "kind"), text(r, "time"))
                };
                let subject = subject(r);
                vec![
                    Cell::text(ctx.date(&time)),
                    Cell::code(what).link(subject.1.unwrap_or_else(|| format!("/records/{index}"))),
                    Cell::num(ctx.int(index)).link(format!("/records/{index}")),
                    Cell::code(first_text(r, &["captured_by"])),
                ]
            })
            .collect();
        sections.push(Section {
            heading: ctx.t("lot.timeline").to_owned(),
            table: Some(table(
                ctx.t("lot.timeline"),
                &[
                    ctx.t("col.time"),
                    ctx.t("col.what"),
                    ctx.t("col.index"),
                    ctx.t("col.by"),
                ],
                events,
            )),
            ..Section::default()
        });
        // Provenance: origin shares per element.
        match json_of(
            registry::provenance(State(state.clone()), Path(id.clone()), no_pairs()).await,
        )
        .await
        {
            Ok(p) => {
                let pill = illustrative(&p);
                let mut rows = Vec::new();
                let mut bars = Vec::new();
                for e in list(&p["elements"]) {
                    let element = text(e, "element");
                    for s in list(&e["by_site"]) {
                        let share = text(s, "share").parse::<f64>().unwrap_or(0.0);
                        let site = text(s, "site");
                        let percent = format!("{:.1}", share * 100.0);
                        bars.push(Bar {
                            label: format!("{element} · {site} ({})", text(s, "country")),
                            value: format!("{} %", ctx.num(&percent)),
                            permille: (share * 1000.0).round().clamp(0.0, 1000.0) as u32,
                            second: None,
                            illustrative: pill,
                        });
                        rows.push(vec![
                            Cell::code(element.clone()),
                            Cell::code(site.clone()).link(href("sites", &site)),
                            Cell::code(text(s, "country")),
                            Cell::num(format!("{} %", ctx.num(&percent))).illustrative(pill),
                            Cell::num(format!("{} kg", ctx.num(&round3(&text(s, "contained_kg")))))
                                .illustrative(pill),
                        ]);
                    }
                }
                sections.push(Section {
                    heading: ctx.t("lot.provenance").to_owned(),
                    note: Some(ctx.t("lot.provenance_note").to_owned()),
                    bars: Some(Bars {
                        title: ctx.t("lot.provenance").to_owned(),
                        bars,
                    }),
                    table: Some(table(
                        ctx.t("lot.provenance"),
                        &[
                            ctx.t("col.element"),
                            ctx.t("col.site"),
                            ctx.t("col.country"),
                            ctx.t("col.share"),
                            ctx.t("col.contained"),
                        ],
                        rows,
                    )),
                    ..Section::default()
                });
                let custody = list(&p["custody"])
                    .iter()
                    .take(200)
                    .map(|c| {
                        let lot = text(c, "lot");
                        vec![
                            Cell::code(lot.clone()).link(href("lots", &lot)),
                            Cell::code(text(c, "custodian")),
                            Cell::code(text(c, "site")),
                            Cell::text(ctx.date(&text(c, "from"))),
                            Cell::text(ctx.date(&text(c, "until"))),
                            Cell::code(text(c, "ended_by")),
                        ]
                    })
                    .collect();
                sections.push(Section {
                    heading: ctx.t("lot.custody").to_owned(),
                    table: Some(table(
                        ctx.t("lot.custody"),
                        &[
                            ctx.t("col.lot"),
                            ctx.t("col.custodian"),
                            ctx.t("col.site"),
                            ctx.t("col.from"),
                            ctx.t("col.until"),
                            ctx.t("col.ended_by"),
                        ],
                        custody,
                    )),
                    ..Section::default()
                });
            }
            Err(e) => sections.push(Section {
                heading: ctx.t("lot.provenance").to_owned(),
                note: Some(e.to_string()),
                ..Section::default()
            }),
        }
        // Reconciliation of the lot's shipments.
        let shipments = {
            let ledger = state.ledger.clone();
            let wanted = id.clone();
            crate::blocking(&ledger, move |l| {
                Ok(l.store()
                    .shipments(None, data::MAX_SHIPMENTS)?
                    .into_iter()
                    .filter(|s| s.lots().iter().any(|x| x.as_str() == wanted))
                    .map(|s| s.id().as_str().to_owned())
                    .take(10)
                    .collect::<Vec<_>>())
            })
            .await?
        };
        let mut rows = Vec::new();
        for shipment in shipments {
            let Ok(r) = json_of(
                reconciliation::reconciliation(
                    State(state.clone()),
                    Path(shipment.clone()),
                    no_pairs(),
                )
                .await,
            )
            .await
            else {
                continue;
            };
            for l in list(&r["lots"]).iter().filter(|l| l["lot"] == id.as_str()) {
                rows.push(vec![
                    Cell::code(shipment.clone())
                        .link(format!("/shipments/{}/reconciliation", encode(&shipment))),
                    Cell::code(text(&r, "status")),
                    Cell::num(format!(
                        "{} kg",
                        ctx.num(&text(&l["shipped"], "wet_mass_kg"))
                    ))
                    .illustrative(ill),
                    Cell::num(format!(
                        "{} kg",
                        ctx.num(&text(&l["received"], "wet_mass_kg"))
                    ))
                    .illustrative(ill),
                    Cell::code(reconciliation_verdict(&ctx, l)),
                ]);
            }
        }
        sections.push(Section {
            heading: ctx.t("lot.reconciliation").to_owned(),
            table: Some(table(
                ctx.t("lot.reconciliation"),
                &[
                    ctx.t("col.shipment"),
                    ctx.t("col.status"),
                    ctx.t("col.shipped"),
                    ctx.t("col.received"),
                    ctx.t("col.verdict"),
                ],
                rows,
            )),
            ..Section::default()
        });
        // Rule-pack verdicts.
        match json_of(
            compliance::compliance(State(state.clone()), Path(id.clone()), no_pairs()).await,
        )
        .await
        {
            Ok(c) => {
                let rows = list(&c["packs"])
                    .iter()
                    .map(|p| {
                        let pack = text(p, "pack");
                        vec![
                            Cell::code(pack.clone()).link(href("rule-packs", &pack)),
                            Cell::code(text(p, "title")),
                            Cell::code(text(p, "verdict")),
                        ]
                    })
                    .collect();
                sections.push(Section {
                    heading: ctx.t("lot.compliance").to_owned(),
                    note: Some(ctx.t("lot.compliance_note").to_owned()),
                    table: Some(table(
                        ctx.t("lot.compliance"),
                        &[ctx.t("col.pack"), ctx.t("col.title"), ctx.t("col.verdict")],
                        rows,
                    )),
                    ..Section::default()
                });
            }
            Err(e) => sections.push(Section {
                heading: ctx.t("lot.compliance").to_owned(),
                note: Some(e.to_string()),
                ..Section::default()
            }),
        }
        let base = href("lots", &id);
        sections.push(Section {
            heading: ctx.t("lot.downloads").to_owned(),
            links: vec![
                oretrace_portal::Link {
                    text: ctx.t("lot.passport").to_owned(),
                    href: format!("{base}/passport"),
                },
                oretrace_portal::Link {
                    text: ctx.t("lot.epcis").to_owned(),
                    href: format!("{base}/provenance/events"),
                },
            ],
            ..Section::default()
        });
        let index = v["index"].as_u64().unwrap_or(0);
        let page = RecordPage {
            head: ctx.head(format!("{} {id}", ctx.t("kind.lot"))),
            kind: ctx.t("kind.lot").to_owned(),
            heading: id.clone(),
            report_banner: false,
            illustrative: ill,
            facts,
            sections,
            verify: vec![verify(&state, index).await],
        };
        Ok(ctx.html(StatusCode::OK, render(&page)))
    })
}

/// A decimal rounded to three places, as text.
fn round3(text: &str) -> String {
    text.parse::<rust_decimal::Decimal>()
        .map(|d| d.round_dp(3).normalize().to_string())
        .unwrap_or_else(|_| text.to_owned())
}

// ---- agreements and reports -----------------------------------------------

pub(crate) fn agreement<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    page(state, request, |state, ctx, mut parts| async move {
        let id = path_id(&mut parts, &state).await?;
        let a = json_of(
            agreements::agreement(State(state.clone()), Path(id.clone()), no_pairs()).await,
        )
        .await?;
        let ill = illustrative(&a);
        let mut facts = vec![
            fact(ctx.t("field.id"), Cell::code(id.clone())),
            fact(ctx.t("field.kind"), Cell::code(text(&a, "kind"))),
            fact(ctx.t("agreement.status"), Cell::code(text(&a, "status"))),
            fact(
                ctx.t("agreement.signed"),
                Cell::text(ctx.date(&text(&a, "signed"))),
            ),
            fact(
                ctx.t("agreement.disclosure"),
                Cell::code(text(&a, "disclosure")),
            ),
            fact(
                ctx.t("agreement.revealed"),
                Cell::num(format!(
                    "{} / {}",
                    ctx.int(a["revealed"].as_u64().unwrap_or(0)),
                    ctx.int(a["clauses"].as_u64().unwrap_or(0))
                )),
            ),
            fact(ctx.t("field.figures"), figures_cell(&ctx, &a)),
        ];
        if !text(&a, "disclose_by").is_empty() {
            let mut c = Cell::text(ctx.date(&text(&a, "disclose_by")));
            if a["disclosure_overdue"] == true {
                c.text = format!("{} — {}", c.text, ctx.t("agreement.overdue"));
            }
            facts.push(fact(ctx.t("agreement.disclose_by"), c));
        }
        for p in list(&a["parties"]) {
            let p = p.as_str().unwrap_or_default();
            facts.push(fact(
                ctx.t("agreement.party"),
                Cell::code(p).link(href("parties", p)),
            ));
        }
        let mut sections = Vec::new();
        // Versions: confirmation and disclosure state.
        let mut version_rows = Vec::new();
        let mut verify_hooks = Vec::new();
        let mut clauses = Vec::new();
        for v in list(&a["versions"]) {
            let n = v["version"].as_u64().unwrap_or(0);
            let index = v["index"].as_u64().unwrap_or(0);
            let confirmed: Vec<String> = list(&v["confirmed_by"])
                .iter()
                .map(|c| text(c, "party"))
                .collect();
            let pending: Vec<String> = list(&v["not_yet_confirmed_by"])
                .iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect();
            let sealed = &v["record"]["terms"]["sealed"];
            let disclosure = if sealed.is_object() {
                format!(
                    "{} · {} {} · {} {} · {} {} · {}: {}",
                    text(v, "disclosure"),
                    ctx.t("agreement.commitment"),
                    text(sealed, "root"),
                    ctx.t("agreement.disclose_by"),
                    ctx.date(&text(sealed, "disclose_by")),
                    ctx.t("agreement.sealed_for"),
                    ctx.t("agreement.days")
                        .replace("{n}", &ctx.int(v["sealed_days"].as_u64().unwrap_or(0))),
                    ctx.t("agreement.reason"),
                    text(sealed, "reason"),
                )
            } else {
                text(v, "disclosure")
            };
            version_rows.push(vec![
                Cell::num(ctx.int(n)).link(format!("{}/versions/{n}", href("agreements", &id))),
                Cell::code(text(v, "registrant")),
                Cell::code(if confirmed.is_empty() {
                    "—".to_owned()
                } else {
                    confirmed.join(", ")
                }),
                Cell::code(if pending.is_empty() {
                    "—".to_owned()
                } else {
                    pending.join(", ")
                }),
                Cell::code(disclosure).illustrative(ill),
                Cell::num(ctx.int(index)).link(format!("/records/{index}")),
            ]);
            verify_hooks.push(verify(&state, index).await);
            if !list(&v["revealed"]).is_empty() {
                let c = json_of(
                    agreements::clauses(
                        State(state.clone()),
                        Path((id.clone(), n.to_string())),
                        no_pairs(),
                    )
                    .await,
                )
                .await
                .unwrap_or(Value::Null);
                for clause in list(&c["clauses"]).iter().take(256) {
                    clauses.push(Clause {
                        agreement: id.clone(),
                        version: n as u32,
                        clause: clause["clause"].as_u64().unwrap_or(0) as u32,
                        text: text(clause, "text"),
                        illustrative: ill,
                    });
                }
            }
        }
        sections.push(Section {
            heading: ctx.t("agreement.versions").to_owned(),
            note: Some(ctx.t("agreement.sealed_note").to_owned()),
            table: Some(table(
                ctx.t("agreement.versions"),
                &[
                    ctx.t("agreement.version"),
                    ctx.t("col.registrant"),
                    ctx.t("col.confirmed"),
                    ctx.t("col.not_confirmed"),
                    ctx.t("agreement.disclosure"),
                    ctx.t("col.index"),
                ],
                version_rows,
            )),
            verify: verify_hooks,
            ..Section::default()
        });
        sections.push(Section {
            heading: ctx.t("agreement.clauses").to_owned(),
            note: Some(
                if clauses.is_empty() {
                    ctx.t("agreement.no_clauses")
                } else {
                    ctx.t("agreement.clauses_note")
                }
                .to_owned(),
            ),
            clauses,
            ..Section::default()
        });
        // Pledged against delivered.
        let mut bars = Vec::new();
        let mut rows = Vec::new();
        for p in list(&a["pledge_status"]) {
            let pledged = text(p, "pledged");
            let delivered = text(p, "delivered");
            let unit = text(p, "unit");
            let description = text(p, "description");
            if !pledged.is_empty() {
                let fraction = match (pledged.parse::<f64>(), delivered.parse::<f64>()) {
                    (Ok(p), Ok(d)) if p > 0.0 => (d / p).clamp(0.0, 1.0),
                    _ => 0.0,
                };
                bars.push(Bar {
                    label: format!(
                        "{} — {}",
                        text(p, "id"),
                        description.chars().take(60).collect::<String>()
                    ),
                    value: format!(
                        "{} {unit} {}",
                        ctx.num(&pledged),
                        ctx.t("agreement.pledged")
                    ),
                    permille: 1000,
                    second: Some((
                        format!(
                            "{} {unit} {}",
                            ctx.num(&delivered),
                            ctx.t("agreement.delivered")
                        ),
                        (fraction * 1000.0).round() as u32,
                    )),
                    illustrative: ill,
                });
            }
            rows.push(vec![
                Cell::code(text(p, "id")),
                Cell::code(description),
                Cell::text(ctx.date(&text(p, "due"))),
                Cell::num(if pledged.is_empty() {
                    "—".to_owned()
                } else {
                    format!("{} {unit}", ctx.num(&pledged))
                })
                .illustrative(ill),
                Cell::num(format!("{} {unit}", ctx.num(&delivered))).illustrative(ill),
                Cell::code(format!(
                    "{}{}",
                    text(p, "status"),
                    if p["overdue"] == true {
                        format!(" · {}", ctx.t("agreement.overdue"))
                    } else {
                        String::new()
                    }
                )),
            ]);
        }
        sections.push(Section {
            heading: ctx.t("agreement.pledges").to_owned(),
            bars: (!bars.is_empty()).then(|| Bars {
                title: ctx.t("agreement.pledges_chart").to_owned(),
                bars,
            }),
            table: Some(table(
                ctx.t("agreement.pledges"),
                &[
                    ctx.t("col.id"),
                    ctx.t("col.what"),
                    ctx.t("col.due"),
                    ctx.t("agreement.pledged"),
                    ctx.t("agreement.delivered"),
                    ctx.t("col.status"),
                ],
                rows,
            )),
            ..Section::default()
        });
        // Progress over time and the shipments it cites.
        let progress =
            json_of(agreements::progress(State(state.clone()), Path(id.clone()), no_pairs()).await)
                .await
                .unwrap_or(Value::Null);
        let rows = list(&progress["progress"])
            .iter()
            .take(200)
            .map(|p| {
                let r = &p["record"];
                let money = &r["delivered"]["money"];
                let delivered = if money.is_object() {
                    format!(
                        "{} {}",
                        ctx.num(&text(money, "amount")),
                        text(money, "currency")
                    )
                } else {
                    String::new()
                };
                let records: Vec<String> = list(&r["records"])
                    .iter()
                    .map(|i| format!("#{i}"))
                    .collect();
                vec![
                    Cell::text(ctx.date(&text(r, "date"))),
                    Cell::code(text(r, "pledge")),
                    Cell::num(delivered).illustrative(illustrative(r)),
                    Cell::text(if r["complete"] == true {
                        ctx.t("label.yes")
                    } else {
                        ctx.t("label.no")
                    }),
                    Cell::code(text(r, "note")),
                    Cell::code(records.join(" ")),
                ]
            })
            .collect();
        sections.push(Section {
            heading: ctx.t("agreement.progress").to_owned(),
            table: Some(table(
                ctx.t("agreement.progress"),
                &[
                    ctx.t("col.date"),
                    ctx.t("col.pledge"),
                    ctx.t("agreement.delivered"),
                    ctx.t("col.complete"),
                    ctx.t("col.note"),
                    ctx.t("col.records"),
                ],
                rows,
            )),
            links: vec![oretrace_portal::Link {
                text: ctx.t("agreement.ocds").to_owned(),
                href: format!("{}/ocds", href("agreements", &id)),
            }],
            ..Section::default()
        });
        // What the latest version links: lots (and so their shipments) and
        // sites.
        let mut linked = Vec::new();
        if let Some(latest) = list(&a["versions"]).last() {
            for (key, base) in [("lots", "lots"), ("sites", "sites")] {
                for item in list(&latest["record"][key]).iter().take(256) {
                    let item = item.as_str().unwrap_or_default();
                    linked.push(oretrace_portal::Link {
                        text: item.to_owned(),
                        href: href(base, item),
                    });
                }
            }
        }
        sections.push(Section {
            heading: ctx.t("agreement.linked").to_owned(),
            note: linked.is_empty().then(|| ctx.t("label.none").to_owned()),
            links: linked,
            ..Section::default()
        });
        let title = text(&a, "title");
        let page = RecordPage {
            head: ctx.head(title.clone()),
            kind: ctx.t("kind.agreement").to_owned(),
            heading: title,
            report_banner: false,
            illustrative: ill,
            facts,
            sections,
            verify: Vec::new(),
        };
        Ok(ctx.html(StatusCode::OK, render(&page)))
    })
}

pub(crate) fn report<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    page(state, request, |state, ctx, mut parts| async move {
        let id = path_id(&mut parts, &state).await?;
        let v = json_of(agreements::report(State(state.clone()), Path(id.clone())).await).await?;
        let r = &v["record"];
        let ill = illustrative(r);
        let mut facts = vec![
            fact(ctx.t("field.id"), Cell::code(id.clone())),
            fact(ctx.t("report.claim"), Cell::code(text(r, "claim"))),
            fact(ctx.t("report.status"), Cell::code(text(&v, "status"))),
            fact(ctx.t("report.topic"), Cell::code(text(r, "topic"))),
            fact(
                ctx.t("report.author"),
                Cell::code(text(&v, "author")).link(href("parties", &text(&v, "author"))),
            ),
            fact(
                ctx.t("field.registered"),
                Cell::text(ctx.date(&text(r, "time"))),
            ),
            fact(ctx.t("field.figures"), figures_cell(&ctx, r)),
        ];
        if r["value"].is_object() {
            facts.push(fact(
                ctx.t("report.value"),
                Cell::num(format!(
                    "{} {}",
                    ctx.num(&text(&r["value"], "amount")),
                    text(&r["value"], "currency")
                ))
                .illustrative(ill),
            ));
        }
        let sources = list(&r["sources"])
            .iter()
            .map(|s| {
                vec![
                    Cell::code(text(s, "publisher")),
                    Cell::code(text(s, "title")),
                    Cell::text(ctx.date(&text(s, "date"))),
                    Cell::code(text(s, "url")),
                ]
            })
            .collect();
        let mut sections = vec![Section {
            heading: ctx.t("report.sources").to_owned(),
            table: Some(table(
                ctx.t("report.sources"),
                &[
                    ctx.t("col.publisher"),
                    ctx.t("col.title"),
                    ctx.t("col.date"),
                    ctx.t("col.address"),
                ],
                sources,
            )),
            ..Section::default()
        }];
        if v["estimates"].is_object() {
            let e = &v["estimates"];
            let rows = list(&e["contained"])
                .iter()
                .map(|c| {
                    vec![
                        Cell::code(first_text(c, &["element", "commodity"])),
                        Cell::num(ctx.num(&first_text(c, &["contained_kg", "tonnes", "amount"]))),
                    ]
                })
                .collect();
            sections.push(Section {
                heading: ctx.t("report.estimates").to_owned(),
                note: Some(text(e, "note")),
                facts: vec![
                    fact(
                        ctx.t("report.code_compliant"),
                        Cell::num(ctx.int(e["code_compliant"].as_u64().unwrap_or(0))),
                    ),
                    fact(
                        ctx.t("report.under_no_code"),
                        Cell::num(ctx.int(e["under_no_code"].as_u64().unwrap_or(0))),
                    ),
                ],
                table: Some(table(
                    ctx.t("report.estimates"),
                    &[ctx.t("col.element"), ctx.t("col.contained")],
                    rows,
                )),
                ..Section::default()
            });
        }
        let mut hooks = Vec::new();
        for i in list(&v["versions"]) {
            if let Some(i) = i.as_u64() {
                hooks.push(verify(&state, i).await);
            }
        }
        let page = RecordPage {
            head: ctx.head(format!("{} {id}", ctx.t("kind.report"))),
            kind: ctx.t("kind.report").to_owned(),
            heading: id.clone(),
            report_banner: true,
            illustrative: ill,
            facts,
            sections,
            verify: hooks,
        };
        Ok(ctx.html(StatusCode::OK, render(&page)))
    })
}

// ---- flows, map, search, downloads ----------------------------------------

pub(crate) fn flows<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    page(state, request, |state, ctx, _| async move {
        let asked = data::flow_query(&ctx.pairs);
        let (element, from, to) = match &asked {
            Ok(q) => (q.element.symbol().to_owned(), q.from.clone(), q.to.clone()),
            Err(_) => (
                "Cu".to_owned(),
                data::DEFAULT_FROM.to_owned(),
                data::DEFAULT_TO.to_owned(),
            ),
        };
        let query = super::encode_pairs(&[
            ("element".into(), element.clone()),
            ("from".into(), from.clone()),
            ("to".into(), to.clone()),
        ]);
        let (mut checkpoint, mut rows, mut error) = (Vec::new(), Vec::new(), None);
        match asked {
            Err(e) => error = Some(e.to_string()),
            Ok(_) => {
                match json_of(data::flows(State(state.clone()), Query(ctx.pairs.clone())).await)
                    .await
                {
                    Ok(f) => {
                        let cp = &f["checkpoint"];
                        checkpoint = checkpoint_facts(
                            &ctx,
                            &text(cp, "origin"),
                            cp["size"].as_u64().unwrap_or(0),
                            &text(cp, "root"),
                        );
                        let label = |id: &str| {
                            list(&f["nodes"])
                                .iter()
                                .find(|n| n["id"] == id)
                                .map(|n| (text(n, "label"), text(n, "stage")))
                                .unwrap_or_default()
                        };
                        for l in list(&f["links"]) {
                            let (s, t) = (label(&text(l, "source")), label(&text(l, "target")));
                            rows.push(vec![
                                Cell::code(s.0),
                                Cell::text(stage_label(&ctx, &s.1)),
                                Cell::code(t.0),
                                Cell::text(stage_label(&ctx, &t.1)),
                                Cell::num(format!("{} kg", ctx.num(&text(l, "kg"))))
                                    .illustrative(l["illustrative"] == true),
                            ]);
                        }
                    }
                    Err(e) => error = Some(e.to_string()),
                }
            }
        }
        let page = FlowsPage {
            head: ctx.head(ctx.t("flows.heading")),
            element: element.clone(),
            from,
            to,
            elements: FLOW_ELEMENTS.iter().map(|e| (*e).to_owned()).collect(),
            data_href: format!("/flows?{query}"),
            checkpoint,
            table: table(
                &format!("{} — {element}", ctx.t("flows.table")),
                &[
                    ctx.t("col.source"),
                    ctx.t("col.stage"),
                    ctx.t("col.target"),
                    ctx.t("col.stage"),
                    ctx.t("col.contained"),
                ],
                rows,
            ),
            error,
        };
        let status = if page.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        Ok(ctx.html(status, render(&page)))
    })
}

fn stage_label(ctx: &Ctx, stage: &str) -> String {
    match stage {
        "origin" => ctx.t("stage.origin"),
        "processing" => ctx.t("stage.processing"),
        "port" => ctx.t("stage.port"),
        "destination" => ctx.t("stage.destination"),
        other => other,
    }
    .to_owned()
}

pub(crate) fn map<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    page(state, request, |state, ctx, _| async move {
        let m = json_of(data::map(State(state.clone()), no_pairs()).await).await?;
        let sites = list(&m["sites"])
            .iter()
            .map(|s| {
                let id = text(s, "id");
                let approx = if s["approximate"] == true {
                    ctx.t("label.approximate")
                } else {
                    ctx.t("label.exact")
                };
                vec![
                    Cell::code(text(s, "name")).link(href("sites", &id)),
                    Cell::code(text(s, "kind")),
                    Cell::code(text(s, "country")),
                    Cell::num(format!(
                        "{}, {}",
                        ctx.num(&text(s, "lat")),
                        ctx.num(&text(s, "lon"))
                    ))
                    .illustrative(s["illustrative"] == true),
                    Cell::text(approx),
                ]
            })
            .collect();
        let routes = list(&m["routes"])
            .iter()
            .map(|r| {
                let via: Vec<String> = list(&r["via"])
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                vec![
                    Cell::code(text(r, "from")).link(href("sites", &text(r, "from"))),
                    Cell::code(if via.is_empty() {
                        "—".to_owned()
                    } else {
                        via.join(" → ")
                    }),
                    Cell::code(text(r, "to")).link(href("sites", &text(r, "to"))),
                    Cell::num(ctx.int(r["shipments"].as_u64().unwrap_or(0))),
                ]
            })
            .collect();
        let page = MapPage {
            head: ctx.head(ctx.t("map.heading")),
            sites: table(
                ctx.t("map.sites"),
                &[
                    ctx.t("col.site"),
                    ctx.t("col.kind"),
                    ctx.t("col.country"),
                    ctx.t("col.coordinates"),
                    ctx.t("col.precision"),
                ],
                sites,
            ),
            routes: table(
                ctx.t("map.routes"),
                &[
                    ctx.t("col.from"),
                    ctx.t("col.via"),
                    ctx.t("col.to"),
                    ctx.t("col.shipments"),
                ],
                routes,
            ),
        };
        Ok(ctx.html(StatusCode::OK, render(&page)))
    })
}

pub(crate) fn search<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    page(state, request, |state, ctx, _| async move {
        let raw = ctx
            .pairs
            .iter()
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.clone());
        let mut error = None;
        let mut rows = Vec::new();
        let searched = raw.as_deref().is_some_and(|q| !q.is_empty());
        if searched {
            match data::search_query(&ctx.pairs) {
                Err(_) => {
                    error = Some(
                        ctx.t("search.too_long")
                            .replace("{n}", &ctx.int(MAX_QUERY_CHARS as u64)),
                    )
                }
                Ok(q) => {
                    let ledger = state.ledger.clone();
                    let found = crate::blocking(&ledger, move |l| data::search_in(l, &q)).await?;
                    for r in list(&found["results"]) {
                        rows.push(vec![
                            Cell::code(text(r, "id")).link(text(r, "href")),
                            Cell::text(kind_label(&ctx, &text(r, "kind"))),
                            Cell::code(text(r, "name")),
                        ]);
                    }
                    if found["truncated"] == true {
                        error = Some(ctx.t("search.truncated").to_owned());
                    }
                }
            }
        }
        // The form shows at most the longest query taken back.
        let q: String = raw
            .unwrap_or_default()
            .chars()
            .take(MAX_QUERY_CHARS)
            .collect();
        let page = SearchPage {
            head: ctx.head(ctx.t("search.heading")),
            q,
            max_len: MAX_QUERY_CHARS,
            error,
            searched,
            results: table(
                ctx.t("search.results"),
                &[ctx.t("col.id"), ctx.t("col.kind"), ctx.t("col.name")],
                rows,
            ),
        };
        Ok(ctx.html(StatusCode::OK, render(&page)))
    })
}

fn kind_label(ctx: &Ctx, kind: &str) -> String {
    match kind {
        "lot" => ctx.t("kind.lot"),
        "party" => ctx.t("kind.party"),
        "site" => ctx.t("kind.site"),
        "agreement" => ctx.t("kind.agreement"),
        "report" => ctx.t("kind.report"),
        other => other,
    }
    .to_owned()
}

pub(crate) fn downloads<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    page(state, request, |state, ctx, _| async move {
        let cp = crate::blocking(&state.ledger, |l| Ok(l.checkpoint()?.0)).await?;
        let mut rows = Vec::new();
        for (href, media, label) in data::DOWNLOADS {
            let (size, root, bytes) = match *href {
                "/exports/agreements.csv" => {
                    cut(crate::exports::agreements_csv(State(state.clone()), no_pairs()).await)
                        .await
                }
                "/exports/pledges.csv" => {
                    cut(crate::exports::pledges_csv(State(state.clone()), no_pairs()).await).await
                }
                "/exports/reports.csv" => {
                    cut(crate::exports::reports_csv(State(state.clone()), no_pairs()).await).await
                }
                _ => (cp.size().to_string(), cp.root().to_base64(), None),
            };
            rows.push(vec![
                Cell::text(ctx.t(label)).link(*href),
                Cell::code(*media),
                Cell::num(bytes.map(|b| ctx.int(b)).unwrap_or_else(|| "—".to_owned())),
                Cell::num(ctx.num(&size)),
                Cell::code(root),
            ]);
        }
        let page = DownloadsPage {
            head: ctx.head(ctx.t("downloads.heading")),
            checkpoint: checkpoint_facts(&ctx, cp.origin(), cp.size(), &cp.root().to_base64()),
            downloads: table(
                ctx.t("downloads.files"),
                &[
                    ctx.t("col.file"),
                    ctx.t("col.type"),
                    ctx.t("col.bytes"),
                    ctx.t("checkpoint.size"),
                    ctx.t("checkpoint.root"),
                ],
                rows,
            ),
        };
        Ok(ctx.html(StatusCode::OK, render(&page)))
    })
}

/// The checkpoint an export was cut at (size, root) and its length.
async fn cut(answer: Result<Response, ApiError>) -> (String, String, Option<u64>) {
    let Ok(response) = answer else {
        return ("—".into(), "—".into(), None);
    };
    let (parts, body) = response.into_parts();
    let header = |name: &axum::http::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("—")
            .to_owned()
    };
    let size = header(&crate::exports::CHECKPOINT_SIZE);
    let root = header(&crate::exports::CHECKPOINT_ROOT);
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .ok()
        .map(|b| b.len() as u64);
    (size, root, bytes)
}

/// `/` for a browser.
pub(crate) fn index<S: Store>(state: AppState<S>, request: Request) -> PageFuture {
    dashboard(state, request)
}

/// The 404 page for a path no route serves.
pub(crate) async fn not_found(request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let ctx = Ctx::of(&parts);
    ctx.error(ApiError::NotFound(format!(
        "no page at {}",
        crate::error::echo(parts.uri.path())
    )))
    .await
}

/// A lot's reconciliation in words: within every tolerance, or the
/// quantities outside it (wet mass, `Sb` grade, `Cu` contained, …), as
/// the reconciliation answer flags them.
fn reconciliation_verdict(ctx: &Ctx, lot: &Value) -> String {
    let outside: Vec<String> = list(&lot["differences"])
        .iter()
        .filter(|d| d["within"] == Value::Bool(false))
        .map(|d| {
            let quantity = text(d, "quantity").replace('_', " ");
            match d["element"].as_str() {
                Some(element) => format!("{element} {quantity}"),
                None => quantity,
            }
        })
        .collect();
    if outside.is_empty() {
        ctx.t("reconciliation.within").to_owned()
    } else {
        format!(
            "{}: {}",
            ctx.t("reconciliation.outside"),
            outside.join(", ")
        )
    }
}
