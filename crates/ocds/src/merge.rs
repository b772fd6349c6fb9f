//! Compiling releases into the current state of a contracting process,
//! by the OCDS 1.1 merge rules
//! (<https://standard.open-contracting.org/1.1/en/schema/merging/>) for
//! the fields this crate emits.

use serde_json::{Map, Value, json};

use crate::Error;
use crate::release::sort_by_date;

/// Fields of a release that `"omitWhenMerged": true` keeps out of the
/// compiled release (which gets its own `id`, `date` and `tag`).
const OMITTED: [&str; 3] = ["id", "date", "tag"];

/// The compiled release of releases of one `ocid`: the releases are
/// taken in date order (ties in the order given), and each one's fields
/// laid over the result so far:
///
/// - a value that is not an object or array, or an array holding anything
///   but objects, replaces what was there (whole-list merge);
/// - an object merges field by field;
/// - an array of objects merges by each object's `id` (identifier merge):
///   an object with a new `id` is added after those already there;
/// - an empty object or array, and `null`, state nothing and are skipped.
///
/// The result has `tag` `["compiled"]`, `id` `<ocid>-<date>` and `date`
/// of the newest release. None of the arrays this crate emits has
/// `"wholeListMerge"` in the schema other than arrays of strings, which
/// are replaced as a whole anyway.
pub fn compile(releases: &[Value]) -> Result<Value, Error> {
    let mut list = releases.to_vec();
    sort_by_date(&mut list);
    let mut out = Map::new();
    out.insert("tag".into(), json!(["compiled"]));
    let mut ocid: Option<String> = None;
    for (i, release) in list.iter().enumerate() {
        let Value::Object(fields) = release else {
            return Err(Error(format!("releases[{i}]: a release is a JSON object")));
        };
        let (Some(this), Some(date)) = (
            fields.get("ocid").and_then(Value::as_str),
            fields.get("date").and_then(Value::as_str),
        ) else {
            return Err(Error(format!(
                "releases[{i}]: a release states its ocid and date as strings"
            )));
        };
        if ocid.as_deref().is_some_and(|o| o != this) {
            return Err(Error(format!(
                "releases[{i}].ocid: {this} is another contracting process than {}",
                ocid.as_deref().unwrap_or_default()
            )));
        }
        ocid = Some(this.to_owned());
        out.insert("id".into(), json!(format!("{this}-{date}")));
        out.insert("date".into(), json!(date));
        let rest: Map<String, Value> = fields
            .iter()
            .filter(|(k, _)| !OMITTED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        merge_object(&mut out, &rest);
    }
    Ok(Value::Object(out))
}

fn merge_object(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (key, value) in from {
        match value {
            Value::Null => {}
            Value::Object(o) if o.is_empty() => {}
            Value::Array(a) if a.is_empty() => {}
            Value::Object(o) => {
                let slot = into
                    .entry(key.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(target) = slot {
                    merge_object(target, o);
                }
            }
            Value::Array(items) if items.iter().all(Value::is_object) => {
                let slot = into
                    .entry(key.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if !slot
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_object))
                {
                    *slot = Value::Array(Vec::new());
                }
                if let Value::Array(target) = slot {
                    merge_by_id(target, items);
                }
            }
            other => {
                into.insert(key.clone(), other.clone());
            }
        }
    }
}

fn merge_by_id(into: &mut Vec<Value>, items: &[Value]) {
    for item in items {
        let Value::Object(fields) = item else {
            continue;
        };
        let existing = fields
            .get("id")
            .and_then(|id| into.iter_mut().find(|t| t.get("id") == Some(id)));
        match existing {
            Some(Value::Object(target)) => merge_object(target, fields),
            _ => {
                let mut fresh = Map::new();
                merge_object(&mut fresh, fields);
                into.push(Value::Object(fresh));
            }
        }
    }
}
