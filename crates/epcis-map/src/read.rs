//! Reading events: which mineral-chain shape an event has, and the records
//! it states.
//!
//! An event has a shape when it uses the registry's namespace for one:
//!
//! | shape | event | marked by |
//! |---|---|---|
//! | lot | ObjectEvent | an `oretrace:` field in `ilmd` |
//! | assay | ObjectEvent | `oretrace:laboratory`, `oretrace:basis`, or a sensor report of an `oretrace` analyte |
//! | shipment / receipt | ObjectEvent | `oretrace:shipment` (bizStep shipping / receiving) |
//! | transformation | TransformationEvent | `oretrace:process`, `oretrace:outputs` or a `urn:oretrace:transformation:` id |
//!
//! A marked event must then have every field of its shape; an `oretrace:`
//! field that belongs to no shape of the event is an error too. Standard
//! fields a shape does not use are ignored (they stay in the captured
//! event).

use std::borrow::Cow;

use oretrace_domain::Record;
use oretrace_domain::chemistry::Analyte;
use oretrace_domain::record::{
    Assay, Basis, Document, Figures, Lot, LotForm, MAX_ITEMS, OutputLot, Receipt, Shipment,
    Transformation,
};
use oretrace_domain::values::{
    Digest, LotId, Mass, PartyId, SiteId, Text, Timestamp, Token, percent,
};
use oretrace_epcis::Context;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::number::decimal_of;
use crate::time::timestamp_of;
use crate::uri::{self, CERTIFICATE, DOCUMENT, PARTY, SITE, TRANSFORMATION};
use crate::vocab::{self, Cbv};
use crate::{MapError, Mapped, NAMESPACE, PREFIX};

/// `https://oretrace.org/epcis/analyte/<formula>`: a `chemicalSubstance`.
pub(crate) fn analyte_prefix() -> String {
    format!("{NAMESPACE}analyte/")
}

/// `https://oretrace.org/epcis/method/<percent-encoded text>`: a
/// `dataProcessingMethod` whose text is not a URI.
pub(crate) fn method_prefix() -> String {
    format!("{NAMESPACE}method/")
}

/// The event's JSON-LD prefixes.
struct Reader {
    context: Context,
    /// The event's own `@context`, as the query index reads it: lot ids
    /// are read through it ([`oretrace_epcis::query::canonical_identifier`]).
    ids: Context,
}

impl Reader {
    fn new(event: &Value) -> Self {
        let mut context = Context::from_document(event);
        if context.prefix(PREFIX).is_none() {
            context = context.with_prefix(PREFIX, NAMESPACE);
        }
        Reader {
            context,
            ids: Context::from_document(event),
        }
    }

    /// A lot id as the query index keeps it: CURIE expanded, EPCs in
    /// canonical Digital Link form.
    fn lot_id(&self, field: &str, value: &Value) -> Result<LotId, MapError> {
        let raw = text(value, field)?;
        let id = oretrace_epcis::query::canonical_identifier(raw, &self.ids);
        let expanded = self.ids.expand_value(raw);
        if expanded.starts_with("urn:epc:idpat:") {
            return Err(MapError::invalid(
                field,
                "an EPC pattern names many objects, not one lot",
            ));
        }
        // A Digital Link whose canonical form drops or changes what it
        // says (a serial under a lot, a repeated or unknown qualifier) is
        // not written the one way it is kept.
        if expanded.starts_with("http") && id != expanded {
            return Err(MapError::invalid(
                field,
                format!("write the lot id as {id} (its canonical GS1 Digital Link)"),
            ));
        }
        let loose = oretrace_epcis::query::loose_identifier(&id);
        if loose != id {
            return Err(MapError::invalid(
                field,
                format!("write the lot id as {loose} (its canonical form: one lot, one spelling)"),
            ));
        }
        LotId::parse(&id).map_err(|e| MapError::domain(field, e))
    }

    /// The local name of a key in the registry's namespace
    /// (`oretrace:commodity`, `ot:commodity` with `ot` declared, or the full
    /// IRI).
    fn local(&self, key: &str) -> Option<String> {
        let expanded = self.context.expand_key(key);
        let local = match expanded.strip_prefix('{') {
            Some(rest) => rest.strip_prefix(NAMESPACE)?.strip_prefix('}')?,
            None => expanded.strip_prefix(NAMESPACE)?,
        };
        Some(local.to_owned())
    }

    /// A value with inline-declared prefixes expanded.
    fn value<'a>(&self, value: &'a str) -> Cow<'a, str> {
        self.context.expand_value(value)
    }

    fn cbv(&self, value: Option<&Value>, vocabulary: Cbv) -> Option<String> {
        let value = self.value(value?.as_str()?);
        vocab::cbv_term(&value, vocabulary).map(str::to_owned)
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The `oretrace:` fields of one JSON object.
struct Fields<'a> {
    /// (local name, path as written, value)
    items: Vec<(String, String, &'a Value)>,
    path: String,
}

impl<'a> Fields<'a> {
    fn empty() -> Self {
        Fields {
            items: Vec::new(),
            path: String::new(),
        }
    }

    fn of(reader: &Reader, object: &'a Map<String, Value>, path: &str) -> Result<Self, MapError> {
        let mut items: Vec<(String, String, &'a Value)> = Vec::new();
        for (key, value) in object {
            let Some(local) = reader.local(key) else {
                continue;
            };
            let field = join(path, key);
            if let Some((_, other, _)) = items.iter().find(|(l, ..)| *l == local) {
                return Err(MapError::invalid(
                    field,
                    format!("names the same field as {other}"),
                ));
            }
            items.push((local, field, value));
        }
        Ok(Fields {
            items,
            path: path.to_owned(),
        })
    }

    fn has(&self, local: &str) -> bool {
        self.items.iter().any(|(l, ..)| l == local)
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn take(&mut self, local: &str) -> Option<(String, &'a Value)> {
        let at = self.items.iter().position(|(l, ..)| l == local)?;
        let (_, field, value) = self.items.remove(at);
        Some((field, value))
    }

    /// The path a missing field would have.
    fn missing(&self, local: &str) -> String {
        join(&self.path, &format!("{PREFIX}:{local}"))
    }

    fn required(&mut self, local: &str, what: &str) -> Result<(String, &'a Value), MapError> {
        self.take(local)
            .ok_or_else(|| MapError::invalid(self.missing(local), format!("{what} expected")))
    }

    /// Every field not taken is an error.
    fn finish(self, place: &str) -> Result<(), MapError> {
        match self.items.into_iter().next() {
            Some((_, field, _)) => Err(MapError::invalid(field, format!("not a field of {place}"))),
            None => Ok(()),
        }
    }
}

fn text<'a>(value: &'a Value, field: &str) -> Result<&'a str, MapError> {
    value
        .as_str()
        .ok_or_else(|| MapError::invalid(field, "a string expected"))
}

fn array<'a>(value: Option<&'a Value>, field: &str) -> Result<&'a [Value], MapError> {
    match value {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(MapError::invalid(field, "an array expected")),
    }
}

fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, MapError> {
    value
        .as_object()
        .ok_or_else(|| MapError::invalid(field, "an object expected"))
}

fn parse<T>(
    field: &str,
    value: &Value,
    f: impl FnOnce(&str) -> Result<T, oretrace_domain::Error>,
) -> Result<T, MapError> {
    f(text(value, field)?).map_err(|e| MapError::domain(field, e))
}

fn figures(fields: &mut Fields) -> Result<Figures, MapError> {
    match fields.take("figures") {
        None => Ok(Figures::Reported),
        Some((field, value)) => value
            .as_str()
            .and_then(|t| Figures::parse(t).ok())
            .ok_or_else(|| MapError::invalid(field, "\"reported\" or \"illustrative\" expected")),
    }
}

/// Every lot id the event names, once each.
fn named_lot_ids(event: &Map<String, Value>, reader: &Reader) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |raw: &str| {
        let id = oretrace_epcis::query::canonical_identifier(raw, &reader.ids);
        if seen.insert(id.clone()) {
            out.push(id);
        }
    };
    if let Some(parent) = event.get("parentID").and_then(Value::as_str) {
        push(parent);
    }
    for (epcs, quantities) in [
        ("epcList", "quantityList"),
        ("childEPCs", "childQuantityList"),
        ("inputEPCList", "inputQuantityList"),
        ("outputEPCList", "outputQuantityList"),
    ] {
        for id in event
            .get(epcs)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            push(id);
        }
        for id in event
            .get(quantities)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|q| q.get("epcClass")?.as_str())
        {
            push(id);
        }
    }
    out
}

fn non_empty(event: &Map<String, Value>, key: &str) -> bool {
    event
        .get(key)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

pub(crate) fn interpret(event: &Value) -> Result<Mapped, MapError> {
    let Value::Object(map) = event else {
        return Err(MapError::NotAnEvent);
    };
    let Some(event_type) = map.get("type").and_then(Value::as_str) else {
        return Err(MapError::NotAnEvent);
    };
    let reader = Reader::new(event);
    let mut fields = Fields::of(&reader, map, "")?;
    let figures = figures(&mut fields)?;
    let biz_step = reader.cbv(map.get("bizStep"), Cbv::BizStep);
    let action = map.get("action").and_then(Value::as_str);
    let moves = matches!(
        biz_step.as_deref(),
        Some(
            "shipping"
                | "receiving"
                | "transforming"
                | "packing"
                | "unpacking"
                | "departing"
                | "arriving"
        )
    ) || action == Some("DELETE")
        || (event_type == "TransformationEvent"
            && (non_empty(map, "inputEPCList") || non_empty(map, "inputQuantityList")));
    let event = Event {
        reader: &reader,
        map,
        figures,
        biz_step: biz_step.as_deref(),
    };
    let (records, place) = match event_type {
        "ObjectEvent" => event.object_event(&mut fields)?,
        "TransformationEvent" => event.transformation_event(&mut fields)?,
        _ => (Vec::new(), NO_SHAPE),
    };
    fields.finish(place)?;
    Ok(Mapped {
        records,
        lots: named_lot_ids(map, &reader),
        moves,
        figures,
    })
}

const NO_SHAPE: &str =
    "this event: it has no mineral-chain shape (see docs/design/epcis-mapping.md)";

/// A lot as an event names it, with its mass when it has one.
struct NamedLot {
    id: LotId,
    mass: Option<Mass>,
    field: String,
}

impl NamedLot {
    fn weighed(&self, what: &str) -> Result<Mass, MapError> {
        self.mass.ok_or_else(|| {
            let rule = if self.field.contains("EPC") || self.field.starts_with("epcList") {
                format!("{what} needs its mass: name the lot in the quantity list with quantity and uom KGM or TNE")
            } else {
                format!("{what} needs its mass: quantity with uom KGM or TNE expected")
            };
            MapError::invalid(&self.field, rule)
        })
    }
}

fn quantity_element(reader: &Reader, value: &Value, field: &str) -> Result<NamedLot, MapError> {
    let element = object(value, field)?;
    let class_field = join(field, "epcClass");
    let id = reader.lot_id(
        &class_field,
        element.get("epcClass").unwrap_or(&Value::Null),
    )?;
    let uom_field = join(field, "uom");
    let quantity_field = join(field, "quantity");
    let mass = match (element.get("quantity"), element.get("uom")) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(MapError::invalid(
                quantity_field,
                "a quantity expected with the uom",
            ));
        }
        (Some(_), None) => {
            return Err(MapError::invalid(
                uom_field,
                "KGM or TNE expected (a quantity without uom counts instances, not mass)",
            ));
        }
        (Some(quantity), Some(uom)) => {
            let unit = uom.as_str().and_then(vocab::mass_unit).ok_or_else(|| {
                let hint = uom
                    .as_str()
                    .and_then(vocab::suggested_mass_uom)
                    .map(|code| format!(" (write {code}, the UN/ECE Rec. 20 code for {uom})"))
                    .unwrap_or_default();
                MapError::invalid(&uom_field, format!("KGM or TNE expected, not {uom}{hint}"))
            })?;
            let value = decimal_of(quantity, &quantity_field)?;
            Some(Mass::new(value, unit).map_err(|e| match e {
                oretrace_domain::Error::Invalid { rule, .. } => {
                    MapError::invalid(&quantity_field, rule)
                }
                other => MapError::domain(&quantity_field, other),
            })?)
        }
    };
    Ok(NamedLot {
        id,
        mass,
        field: field.to_owned(),
    })
}

/// The lots of an EPC list and a quantity list, each at most once.
fn named_lots(
    reader: &Reader,
    map: &Map<String, Value>,
    epcs: &str,
    quantities: &str,
) -> Result<Vec<NamedLot>, MapError> {
    let mut out: Vec<NamedLot> = Vec::new();
    for (i, value) in array(map.get(epcs), epcs)?.iter().enumerate() {
        let field = format!("{epcs}[{i}]");
        out.push(NamedLot {
            id: reader.lot_id(&field, value)?,
            mass: None,
            field,
        });
    }
    for (i, value) in array(map.get(quantities), quantities)?.iter().enumerate() {
        out.push(quantity_element(
            reader,
            value,
            &format!("{quantities}[{i}]"),
        )?);
    }
    if out.len() > MAX_ITEMS {
        return Err(MapError::invalid(
            quantities,
            format!("names at most {MAX_ITEMS} lots"),
        ));
    }
    let mut first: std::collections::HashMap<&LotId, &str> = std::collections::HashMap::new();
    for lot in &out {
        if let Some(at) = first.insert(&lot.id, &lot.field) {
            return Err(MapError::invalid(
                &lot.field,
                format!("names {} a second time (first at {at})", lot.id),
            ));
        }
    }
    Ok(out)
}

fn registry_site(uri: &str, field: &str) -> Result<Option<SiteId>, MapError> {
    match uri.strip_prefix(SITE) {
        Some(id) => SiteId::parse(id)
            .map(Some)
            .map_err(|e| MapError::domain(field, e)),
        None => Ok(None),
    }
}

fn registry_party(uri: &str, field: &str) -> Result<Option<PartyId>, MapError> {
    match uri.strip_prefix(PARTY) {
        Some(id) => PartyId::parse(id)
            .map(Some)
            .map_err(|e| MapError::domain(field, e)),
        None => Ok(None),
    }
}

fn moisture(value: &Value, field: &str) -> Result<Decimal, MapError> {
    percent(decimal_of(value, field)?, true).map_err(|e| MapError::domain(field, e))
}

/// One sensor report, with the method its element's metadata gives.
struct Report<'a> {
    path: String,
    map: &'a Map<String, Value>,
    metadata_method: Option<&'a Value>,
}

/// One event being read.
struct Event<'a> {
    reader: &'a Reader,
    map: &'a Map<String, Value>,
    figures: Figures,
    biz_step: Option<&'a str>,
}

type Shape = (Vec<Record>, &'static str);

impl<'a> Event<'a> {
    fn expect_step(&self, step: &str, why: &str) -> Result<(), MapError> {
        if self.biz_step == Some(step) {
            Ok(())
        } else {
            Err(MapError::invalid(
                "bizStep",
                format!("{step} expected: {why}"),
            ))
        }
    }

    fn expect_action(&self, action: &str, why: &str) -> Result<(), MapError> {
        if self.map.get("action").and_then(Value::as_str) == Some(action) {
            Ok(())
        } else {
            Err(MapError::invalid(
                "action",
                format!("{action} expected: {why}"),
            ))
        }
    }

    /// The lots of an EPC list and a quantity list ([`named_lots`]); at
    /// least one, or the error `why` on the quantity list.
    fn some_lots(
        &self,
        epcs: &str,
        quantities: &str,
        why: &str,
    ) -> Result<Vec<NamedLot>, MapError> {
        let named = named_lots(self.reader, self.map, epcs, quantities)?;
        if named.is_empty() {
            return Err(MapError::invalid(quantities, why));
        }
        Ok(named)
    }

    fn time(&self) -> Result<Timestamp, MapError> {
        timestamp_of(
            self.map.get("eventTime").unwrap_or(&Value::Null),
            "eventTime",
        )
    }

    fn site(&self) -> Result<SiteId, MapError> {
        let field = "bizLocation.id";
        let uri = self
            .map
            .get("bizLocation")
            .and_then(|b| b.get("id"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                MapError::invalid(field, "the site expected, as urn:oretrace:site:<site id>")
            })?;
        registry_site(uri, field)?.ok_or_else(|| {
            MapError::invalid(
                field,
                format!("urn:oretrace:site:<site id> expected, not {uri:?}"),
            )
        })
    }

    fn ilmd_fields(&self) -> Result<Fields<'a>, MapError> {
        match self.map.get("ilmd") {
            Some(Value::Object(ilmd)) => Fields::of(self.reader, ilmd, "ilmd"),
            _ => Ok(Fields::empty()),
        }
    }

    fn object_event(&self, fields: &mut Fields<'a>) -> Result<Shape, MapError> {
        let ilmd = self.ilmd_fields()?;
        if fields.has("shipment") {
            ilmd.finish("the ilmd of a shipping or receiving event")?;
            return match self.biz_step {
                Some("shipping") => self.shipment(fields),
                Some("receiving") => self.receipt(fields),
                _ => Err(MapError::invalid(
                    "bizStep",
                    "shipping or receiving expected: the event carries oretrace:shipment",
                )),
            };
        }
        if !ilmd.is_empty() {
            return self.lot(ilmd);
        }
        if self.is_assay(fields) {
            return self.assay(fields);
        }
        Ok((Vec::new(), NO_SHAPE))
    }

    fn lot(&self, mut ilmd: Fields<'a>) -> Result<Shape, MapError> {
        let why = "the event commissions a lot (its ilmd carries oretrace fields)";
        self.expect_step("commissioning", why)?;
        self.expect_action("ADD", why)?;
        let (field, value) = ilmd.required("commodity", "the commodity (antimony, copper…)")?;
        let commodity = parse(&field, value, Token::parse)?;
        let (field, value) = ilmd.required("form", "the lot's form (sample, ore, concentrate…)")?;
        let form = parse(&field, value, LotForm::parse)?;
        let (field, value) = ilmd.required("moisturePercent", "the moisture in percent")?;
        let moisture = moisture(value, &field)?;
        ilmd.finish("the ilmd of a commissioning event")?;
        let site = self.site()?;
        let time = self.time()?;
        let named = self.some_lots(
            "epcList",
            "quantityList",
            "a commissioning event names its lot with its wet mass",
        )?;
        let mut records = Vec::new();
        for lot in named {
            records.push(Record::Lot(Lot {
                wet_mass: lot.weighed("a commissioned lot")?,
                id: lot.id,
                commodity: commodity.clone(),
                form,
                site: site.clone(),
                moisture,
                time,
                figures: self.figures,
            }));
        }
        Ok((records, "a commissioning event"))
    }

    fn reports(&self) -> Result<Vec<Report<'a>>, MapError> {
        let mut out = Vec::new();
        for (i, element) in array(self.map.get("sensorElementList"), "sensorElementList")?
            .iter()
            .enumerate()
        {
            let path = format!("sensorElementList[{i}]");
            let element = object(element, &path)?;
            let method = element
                .get("sensorMetadata")
                .and_then(|m| m.get("dataProcessingMethod"));
            let reports_field = join(&path, "sensorReport");
            for (j, report) in array(element.get("sensorReport"), &reports_field)?
                .iter()
                .enumerate()
            {
                let field = format!("{reports_field}[{j}]");
                out.push(Report {
                    map: object(report, &field)?,
                    path: field,
                    metadata_method: method,
                });
            }
        }
        Ok(out)
    }

    fn analyte_formula(&self, report: &Map<String, Value>) -> Option<String> {
        let substance = self
            .reader
            .value(report.get("chemicalSubstance")?.as_str()?);
        substance.strip_prefix(&analyte_prefix()).map(str::to_owned)
    }

    fn is_assay(&self, fields: &Fields) -> bool {
        if fields.has("laboratory") || fields.has("basis") {
            return true;
        }
        // A malformed sensor list marks nothing: a GS1 event that is not the
        // registry's reads as no records whatever its shape.
        for report in self.reports().unwrap_or_default() {
            if self.analyte_formula(report.map).is_some()
                || report.map.keys().any(|k| self.reader.local(k).is_some())
            {
                return true;
            }
        }
        false
    }

    fn certificate(&self) -> Result<Digest, MapError> {
        let list = array(self.map.get("bizTransactionList"), "bizTransactionList")?;
        let mut found: Option<(String, &Map<String, Value>, &str)> = None;
        for (k, entry) in list.iter().enumerate() {
            let field = format!("bizTransactionList[{k}]");
            let entry = object(entry, &field)?;
            let Some(uri) = entry
                .get("bizTransaction")
                .and_then(Value::as_str)
                .filter(|u| u.starts_with("urn:oretrace:certificate:"))
            else {
                continue;
            };
            if let Some((first, ..)) = &found {
                return Err(MapError::invalid(
                    field,
                    format!(
                        "a second certificate (the first is {first}); an assay event names one"
                    ),
                ));
            }
            found = Some((field, entry, uri));
        }
        let Some((field, entry, uri)) = found else {
            return Err(MapError::invalid(
                "bizTransactionList",
                "the assay certificate expected: {\"type\": \"testres\", \
                 \"bizTransaction\": \"urn:oretrace:certificate:sha256:<64 hex>\"}",
            ));
        };
        if self
            .reader
            .cbv(entry.get("type"), Cbv::BizTransactionType)
            .as_deref()
            != Some("testres")
        {
            return Err(MapError::invalid(
                join(&field, "type"),
                "testres expected for the assay certificate",
            ));
        }
        let field = join(&field, "bizTransaction");
        let hex = uri.strip_prefix(CERTIFICATE).ok_or_else(|| {
            MapError::invalid(&field, "urn:oretrace:certificate:sha256:<64 hex> expected")
        })?;
        Digest::parse(hex).map_err(|e| MapError::domain(&field, e))
    }

    fn assay(&self, fields: &mut Fields<'a>) -> Result<Shape, MapError> {
        let why =
            "the event reports assays (oretrace:laboratory, oretrace:basis or an oretrace analyte)";
        self.expect_step("inspecting", why)?;
        self.expect_action("OBSERVE", why)?;
        let named = named_lots(self.reader, self.map, "epcList", "quantityList")?;
        let [lot] = named.as_slice() else {
            return Err(MapError::invalid(
                "quantityList",
                format!("an assay event names exactly one lot, not {}", named.len()),
            ));
        };
        let (field, value) = fields.required("laboratory", "the laboratory's party id")?;
        let laboratory = parse(&field, value, PartyId::parse)?;
        let basis = match fields.take("basis") {
            Some((field, value)) => Some(parse(&field, value, Basis::parse)?),
            None => None,
        };
        let certificate = self.certificate()?;
        let time = self.time()?;
        let mut records = Vec::new();
        for Report {
            path,
            map: report,
            metadata_method,
        } in self.reports()?
        {
            let mut report_fields = Fields::of(self.reader, report, &path)?;
            let Some(formula) = self.analyte_formula(report) else {
                report_fields.finish("a sensor report without an oretrace analyte")?;
                continue;
            };
            let field = join(&path, "chemicalSubstance");
            let analyte = Analyte::parse(&formula).map_err(|e| MapError::domain(&field, e))?;
            let field = join(&path, "type");
            let measurement = report
                .get("type")
                .and_then(Value::as_str)
                .map(|t| self.reader.value(t));
            if !measurement.is_some_and(|t| vocab::is_dimensionless(&t)) {
                return Err(MapError::invalid(
                    field,
                    "Dimensionless expected: a grade is a mass fraction",
                ));
            }
            let field = join(&path, "value");
            let value = decimal_of(report.get("value").unwrap_or(&Value::Null), &field)?;
            if value.is_sign_negative() && !value.is_zero() {
                return Err(MapError::invalid(field, "a grade may not be negative"));
            }
            let uom_field = join(&path, "uom");
            let unit = report
                .get("uom")
                .and_then(Value::as_str)
                .and_then(vocab::grade_unit)
                .ok_or_else(|| {
                    MapError::invalid(
                        &uom_field,
                        "P1 (percent), 59 (ppm) or NA (mg/kg, that is g/t) expected",
                    )
                })?;
            if unit.to_percent(value) > Decimal::from(100) {
                return Err(MapError::invalid(field, "a grade may not exceed 100 %"));
            }
            let field = join(&path, "dataProcessingMethod");
            let method = report
                .get("dataProcessingMethod")
                .or(metadata_method)
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    MapError::invalid(
                        &field,
                        "the method expected (here or in the element's sensorMetadata)",
                    )
                })?;
            let method = uri::uri_text(&method_prefix(), &self.reader.value(method), &field)?;
            let basis = match report_fields.take("basis") {
                Some((field, value)) => parse(&field, value, Basis::parse)?,
                None => basis.ok_or_else(|| {
                    MapError::invalid(
                        fields.missing("basis"),
                        "dry or wet expected (on the event or the report)",
                    )
                })?,
            };
            let uncertainty = match report_fields.take("uncertainty") {
                Some((field, value)) => {
                    let u = decimal_of(value, &field)?;
                    if u.is_sign_negative() && !u.is_zero() {
                        return Err(MapError::invalid(
                            field,
                            "an uncertainty is a non-negative ± value",
                        ));
                    }
                    if unit.to_percent(u) > Decimal::from(100) {
                        return Err(MapError::invalid(
                            field,
                            "an uncertainty may not exceed 100 %",
                        ));
                    }
                    Some(u)
                }
                None => None,
            };
            report_fields.finish("a sensor report")?;
            records.push(Record::Assay(Assay {
                lot: lot.id.clone(),
                analyte,
                value,
                unit,
                basis,
                uncertainty,
                method,
                laboratory: laboratory.clone(),
                certificate,
                time,
                figures: self.figures,
            }));
        }
        if records.is_empty() {
            return Err(MapError::invalid(
                "sensorElementList",
                format!(
                    "an assay event reports at least one analyte, as chemicalSubstance {}<formula>",
                    analyte_prefix()
                ),
            ));
        }
        Ok((records, "an inspecting event"))
    }

    /// The one registry site of type `location` in a source or destination
    /// list; other locations (an SGLN beside it) are ignored.
    fn place(&self, list: &str, member: &str, what: &str) -> Result<SiteId, MapError> {
        let mut found: Option<(String, SiteId)> = None;
        for (k, entry) in array(self.map.get(list), list)?.iter().enumerate() {
            let field = format!("{list}[{k}]");
            let entry = object(entry, &field)?;
            if self
                .reader
                .cbv(entry.get("type"), Cbv::SourceDestinationType)
                .as_deref()
                != Some("location")
            {
                continue;
            }
            let id_field = join(&field, member);
            let Some(uri) = entry.get(member).and_then(Value::as_str) else {
                continue;
            };
            let Some(site) = registry_site(uri, &id_field)? else {
                continue;
            };
            if let Some((first, _)) = &found {
                return Err(MapError::invalid(
                    id_field,
                    format!("a second registry site of type location (the first is {first})"),
                ));
            }
            found = Some((id_field, site));
        }
        found.map(|(_, site)| site).ok_or_else(|| {
            MapError::invalid(
                list,
                format!(
                    "the {what} site expected as {{\"type\": \"location\", \"{member}\": \"urn:oretrace:site:<site id>\"}}"
                ),
            )
        })
    }

    /// The receiver: the registry party of type `owning_party` in the
    /// destination list, or else of type `possessing_party`.
    fn receiver(&self) -> Result<PartyId, MapError> {
        let list = "destinationList";
        let mut owning: Vec<(String, PartyId)> = Vec::new();
        let mut possessing: Vec<(String, PartyId)> = Vec::new();
        for (k, entry) in array(self.map.get(list), list)?.iter().enumerate() {
            let field = format!("{list}[{k}]");
            let entry = object(entry, &field)?;
            let id_field = join(&field, "destination");
            let Some(uri) = entry.get("destination").and_then(Value::as_str) else {
                continue;
            };
            let found = match self
                .reader
                .cbv(entry.get("type"), Cbv::SourceDestinationType)
                .as_deref()
            {
                Some("owning_party") => &mut owning,
                Some("possessing_party") => &mut possessing,
                _ => continue,
            };
            if let Some(party) = registry_party(uri, &id_field)? {
                found.push((id_field, party));
            }
        }
        let chosen = if owning.is_empty() {
            possessing
        } else {
            owning
        };
        match chosen.as_slice() {
            [(_, party)] => Ok(party.clone()),
            [] => Err(MapError::invalid(
                list,
                "the receiver expected as {\"type\": \"owning_party\", \
                 \"destination\": \"urn:oretrace:party:<party id>\"}",
            )),
            [(first, _), (second, _), ..] => Err(MapError::invalid(
                second,
                format!("a second registry party of the same type (the first is {first})"),
            )),
        }
    }

    fn documents(&self) -> Result<Vec<Document>, MapError> {
        let list = "bizTransactionList";
        let mut out = Vec::new();
        for (k, entry) in array(self.map.get(list), list)?.iter().enumerate() {
            let field = format!("{list}[{k}]");
            let entry = object(entry, &field)?;
            let type_field = join(&field, "type");
            let bt_type = match entry.get("type") {
                None => None,
                Some(t) => Some(self.reader.value(text(t, &type_field)?)),
            };
            let kind = vocab::document_kind(bt_type.as_deref())
                .map_err(|term| {
                    MapError::invalid(
                        &type_field,
                        format!(
                            "{term:?} is not one of the registry's document types \
                             (export-permit, customs-declaration, other)"
                        ),
                    )
                })?
                .unwrap_or(oretrace_domain::record::DocumentKind::Other);
            let bt_field = join(&field, "bizTransaction");
            let uri = text(
                entry.get("bizTransaction").unwrap_or(&Value::Null),
                &bt_field,
            )?;
            out.push(Document {
                kind,
                reference: uri::uri_text(DOCUMENT, uri, &bt_field)?,
            });
        }
        if out.len() > MAX_ITEMS {
            return Err(MapError::invalid(
                list,
                format!("lists at most {MAX_ITEMS} documents"),
            ));
        }
        Ok(out)
    }

    fn shipment_id(fields: &mut Fields) -> Result<Token, MapError> {
        let (field, value) = fields.required("shipment", "the shipment id")?;
        parse(&field, value, Token::parse)
    }

    fn shipment(&self, fields: &mut Fields<'a>) -> Result<Shape, MapError> {
        self.expect_action("OBSERVE", "a shipping event observes the lots leaving")?;
        let id = Self::shipment_id(fields)?;
        let named = self.some_lots(
            "epcList",
            "quantityList",
            "a shipment names the lots it ships",
        )?;
        let from = self.place("sourceList", "source", "origin")?;
        let to = self.place("destinationList", "destination", "destination")?;
        if from == to {
            return Err(MapError::invalid(
                "destinationList",
                "a shipment goes to another site than the one it leaves",
            ));
        }
        let receiver = self.receiver()?;
        let via = match fields.take("via") {
            None => Vec::new(),
            Some((field, value)) => {
                let items = array(Some(value), &field)?;
                if items.len() > MAX_ITEMS {
                    return Err(MapError::invalid(
                        field,
                        format!("lists at most {MAX_ITEMS} sites"),
                    ));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| parse(&format!("{field}[{i}]"), v, SiteId::parse))
                    .collect::<Result<_, _>>()?
            }
        };
        let documents = self.documents()?;
        let time = self.time()?;
        Ok((
            vec![Record::Shipment(Shipment {
                id,
                lots: named.into_iter().map(|l| l.id).collect(),
                from,
                to,
                via,
                receiver,
                documents,
                time,
                figures: self.figures,
            })],
            "a shipping event",
        ))
    }

    fn receipt(&self, fields: &mut Fields<'a>) -> Result<Shape, MapError> {
        self.expect_action("OBSERVE", "a receiving event observes the lots arriving")?;
        let shipment = Self::shipment_id(fields)?;
        let site = self.site()?;
        let named = self.some_lots(
            "epcList",
            "quantityList",
            "a receipt names every lot it receives, with its weighed mass",
        )?;
        let mut lots = Vec::new();
        for lot in named {
            lots.push((lot.id.clone(), lot.weighed("a received lot")?));
        }
        let time = self.time()?;
        Ok((
            vec![Record::Receipt(Receipt {
                shipment,
                site,
                lots,
                time,
                figures: self.figures,
            })],
            "a receiving event",
        ))
    }

    fn transformation_event(&self, fields: &mut Fields<'a>) -> Result<Shape, MapError> {
        self.ilmd_fields()?.finish(
            "the ilmd of a TransformationEvent (each output's attributes go in oretrace:outputs)",
        )?;
        let transformation_id = self.map.get("transformationID").and_then(Value::as_str);
        let marked = fields.has("process")
            || fields.has("outputs")
            || transformation_id.is_some_and(|t| t.starts_with(TRANSFORMATION));
        if !marked {
            return Ok((Vec::new(), NO_SHAPE));
        }
        let field = "transformationID";
        let id = transformation_id
            .and_then(|t| t.strip_prefix(TRANSFORMATION))
            .ok_or_else(|| {
                MapError::invalid(
                    field,
                    "urn:oretrace:transformation:<transformation id> expected",
                )
            })
            .and_then(|t| Token::parse(t).map_err(|e| MapError::domain(field, e)))?;
        let site = self.site()?;
        let (field, value) = fields.required("process", "the process")?;
        let process = parse(&field, value, Text::parse)?;
        let mut inputs = Vec::new();
        for lot in self.some_lots(
            "inputEPCList",
            "inputQuantityList",
            "a transformation names its inputs with the mass consumed",
        )? {
            inputs.push((lot.id.clone(), lot.weighed("an input")?));
        }
        let outputs = self.outputs(fields, &inputs)?;
        let time = self.time()?;
        Ok((
            vec![Record::Transformation(Transformation {
                id,
                site,
                process,
                inputs,
                outputs,
                time,
                figures: self.figures,
            })],
            "a transformation event",
        ))
    }

    fn outputs(
        &self,
        fields: &mut Fields<'a>,
        inputs: &[(LotId, Mass)],
    ) -> Result<Vec<OutputLot>, MapError> {
        let named = self.some_lots(
            "outputEPCList",
            "outputQuantityList",
            "a transformation names its outputs with their wet mass",
        )?;
        let (list_field, list) = fields.required("outputs", "each output's attributes")?;
        // (lot, field of the entry, commodity, form, moisture)
        let mut attributes: Vec<(LotId, String, Token, LotForm, Decimal)> = Vec::new();
        for (k, item) in array(Some(list), &list_field)?.iter().enumerate() {
            let path = format!("{list_field}[{k}]");
            let mut item_fields = Fields::of(self.reader, object(item, &path)?, &path)?;
            let (field, value) = item_fields.required("lot", "the output lot's id")?;
            let lot = self.reader.lot_id(&field, value)?;
            if let Some((_, first, ..)) = attributes.iter().find(|a| a.0 == lot) {
                return Err(MapError::invalid(
                    field,
                    format!("describes {lot} a second time (first at {first})"),
                ));
            }
            let (field, value) = item_fields.required("commodity", "the commodity")?;
            let commodity = parse(&field, value, Token::parse)?;
            let (field, value) = item_fields.required("form", "the output's form")?;
            let form = parse(&field, value, LotForm::parse)?;
            let (field, value) =
                item_fields.required("moisturePercent", "the moisture in percent")?;
            let moisture = moisture(value, &field)?;
            item_fields.finish("an output's attributes")?;
            attributes.push((lot, path, commodity, form, moisture));
        }
        let mut outputs = Vec::new();
        for lot in named {
            if inputs.iter().any(|(input, _)| *input == lot.id) {
                return Err(MapError::invalid(
                    &lot.field,
                    "an output cannot be one of the inputs",
                ));
            }
            let wet_mass = lot.weighed("an output")?;
            let at = attributes
                .iter()
                .position(|a| a.0 == lot.id)
                .ok_or_else(|| {
                    MapError::invalid(
                        &list_field,
                        format!("no entry for the output {} (at {})", lot.id, lot.field),
                    )
                })?;
            let (id, _, commodity, form, moisture) = attributes.remove(at);
            outputs.push(OutputLot {
                id,
                commodity,
                form,
                wet_mass,
                moisture,
            });
        }
        if let Some((lot, path, ..)) = attributes.first() {
            return Err(MapError::invalid(
                path,
                format!("describes {lot}, which the output lists do not name"),
            ));
        }
        Ok(outputs)
    }
}
