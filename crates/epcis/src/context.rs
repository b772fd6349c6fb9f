//! The JSON-LD context of an EPCIS document, as far as the event hash needs it.
//!
//! Two things come out of a document's `@context` and body:
//!
//! * the namespace prefixes declared inline (`{"example": "https://ns.example.com/epcis/"}`),
//!   used to write user-extension keys as `{namespace}localName` and to expand
//!   CURIE values;
//! * the set of standard-vocabulary Web URIs (`https://ref.gs1.org/cbv…`,
//!   `https://gs1.org/voc…`) that JSON-LD expansion of the document produces.
//!   Bare strings such as `"shipping"` or `"Temperature"` are replaced by the
//!   single member of that set that ends in `-shipping` / `/shipping`.
//!
//! The reference implementation obtains the second set by running a full
//! JSON-LD expansion (PyLD) against the GS1 context. This module emulates that
//! expansion for the GS1 EPCIS 2.0 context only: which keys are kept, which
//! values are IRIs, which are vocabulary terms and which scoped contexts apply
//! below `bizTransactionList`, `sourceList`, `destinationList`,
//! `persistentDisposition`, `sensorElementList` and `errorDeclaration`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::vocab::{self, TermSet};

/// Prefixes and standard-vocabulary values in effect for one EPCIS document.
///
/// [`Context::default`] is the plain GS1 EPCIS 2.0 context: no inline
/// prefixes, nothing known about the rest of the document. Use
/// [`Context::from_document`] to pick up the prefixes declared in a document's
/// `@context` and the vocabulary used anywhere in the document (the reference
/// implementation expands bare strings against the whole document, so an
/// event's hash can depend on its sibling events; see the crate docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Inline prefix declarations, later declarations win.
    prefixes: BTreeMap<String, String>,
    /// Expanded standard-vocabulary IRIs seen in the document.
    vocabulary: BTreeSet<String>,
}

impl Context {
    /// The GS1 EPCIS 2.0 context without inline declarations.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the context of `document` (an `EPCISDocument`,
    /// `EPCISQueryDocument` or a bare event): the prefixes declared in its
    /// `@context` (string entries such as the GS1 context URL are accepted and
    /// ignored) and the standard-vocabulary values its JSON-LD expansion
    /// yields.
    #[must_use]
    pub fn from_document(document: &Value) -> Self {
        let mut context = Self::new();
        if let Some(declared) = document.get("@context") {
            context.declare_all(declared);
        }
        let mut vocabulary = BTreeSet::new();
        collect_vocabulary(document, &context, &mut vocabulary);
        context.vocabulary = vocabulary;
        context
    }

    /// Adds (or replaces) an inline prefix declaration.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>, namespace: impl Into<String>) -> Self {
        self.prefixes.insert(prefix.into(), namespace.into());
        self
    }

    /// The namespace declared inline for `prefix`.
    #[must_use]
    pub fn prefix(&self, prefix: &str) -> Option<&str> {
        self.prefixes.get(prefix).map(String::as_str)
    }

    /// Writes a key with a declared prefix as `{namespace}localName`
    /// (`example:myField` → `{https://ns.example.com/epcis/}myField`). Keys
    /// without a declared prefix are returned unchanged.
    #[must_use]
    pub fn expand_key<'a>(&self, key: &'a str) -> Cow<'a, str> {
        match key.split_once(':') {
            Some((prefix, local)) => match self.prefixes.get(prefix) {
                Some(namespace) => Cow::Owned(format!("{{{namespace}}}{local}")),
                None => Cow::Borrowed(key),
            },
            None => Cow::Borrowed(key),
        }
    }

    /// Expands a CURIE value with a declared prefix to the full URI
    /// (`gs1:Temperature` → `https://gs1.org/voc/Temperature` when `gs1` is
    /// declared inline). Other values are returned unchanged.
    #[must_use]
    pub fn expand_value<'a>(&self, value: &'a str) -> Cow<'a, str> {
        match value.split_once(':') {
            Some((prefix, local)) => match self.prefixes.get(prefix) {
                Some(namespace) => {
                    let namespace: String = namespace
                        .chars()
                        .filter(|c| *c != '{' && *c != '}')
                        .collect();
                    Cow::Owned(format!("{namespace}{local}"))
                }
                None => Cow::Borrowed(value),
            },
            None => Cow::Borrowed(value),
        }
    }

    /// The document's vocabulary plus whatever `event` itself contributes.
    pub(crate) fn vocabulary_for(&self, event: &Value) -> BTreeSet<String> {
        let mut vocabulary = self.vocabulary.clone();
        collect_vocabulary(event, self, &mut vocabulary);
        vocabulary
    }

    fn declare_all(&mut self, declared: &Value) {
        match declared {
            Value::Array(entries) => entries.iter().for_each(|entry| {
                if let Value::Object(map) = entry {
                    self.declare(map);
                }
            }),
            Value::Object(map) => self.declare(map),
            _ => {}
        }
    }

    fn declare(&mut self, map: &Map<String, Value>) {
        for (key, value) in map {
            // Term definitions given as objects (`{"@type": "@id"}`) and
            // keyword aliases are not namespace prefixes.
            if let Value::String(namespace) = value
                && !key.starts_with('@')
                && !namespace.starts_with('@')
            {
                self.prefixes.insert(key.clone(), namespace.clone());
            }
        }
    }

    /// IRI of a term or prefix known to JSON-LD expansion (inline first, then
    /// the GS1 context's own prefixes).
    fn known_iri(&self, name: &str) -> Option<&str> {
        self.prefixes.get(name).map(String::as_str).or_else(|| {
            vocab::CONTEXT_PREFIXES
                .iter()
                .find(|(prefix, _)| *prefix == name)
                .map(|(_, iri)| *iri)
        })
    }

    /// JSON-LD IRI expansion of a value (`vocab` for `@type` / `@vocab`
    /// positions, where terms are tried first).
    fn expand_iri<'a>(&self, value: &'a str, vocab: bool) -> Cow<'a, str> {
        if vocab && let Some(iri) = self.known_iri(value) {
            return Cow::Owned(iri.to_owned());
        }
        if let Some((prefix, suffix)) = value.split_once(':')
            && prefix != "_"
            && !suffix.starts_with("//")
            && let Some(iri) = self.known_iri(prefix)
        {
            return Cow::Owned(format!("{iri}{suffix}"));
        }
        Cow::Borrowed(value)
    }
}

/// The single vocabulary IRI that `value` is the bare-string form of, if
/// exactly one IRI in `vocabulary` ends in `-value` or `/value`.
pub(crate) fn bare_string_expansion<'v>(
    vocabulary: &'v BTreeSet<String>,
    value: &str,
) -> Option<&'v str> {
    let mut found = None;
    for iri in vocabulary {
        let Some(head) = iri.strip_suffix(value) else {
            continue;
        };
        if head.ends_with('-') || head.ends_with('/') {
            if found.is_some() {
                return None;
            }
            found = Some(iri.as_str());
        }
    }
    found
}

fn is_standard_vocabulary(iri: &str) -> bool {
    iri.starts_with("https://ref.gs1.org/cbv") || iri.starts_with("https://gs1.org/voc")
}

/// Property-scoped contexts of the GS1 context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    BizTransaction,
    SourceDestination,
    PersistentDisposition,
    SensorElement,
    SensorMetadata,
    SensorReport,
    ErrorDeclaration,
}

/// How JSON-LD expansion treats the value of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Definition {
    /// Dropped by expansion (unknown term) or not data (`@context`).
    Skip,
    /// A plain literal property (or node object).
    Plain,
    /// `@id` keyword or property with `"@type": "@id"`.
    Iri,
    /// `@type` keyword.
    Type,
    /// Property with `"@type": "@vocab"` and scoped term definitions.
    Vocab(TermSet),
    /// Property with a scoped context for its value.
    Scoped(Scope),
}

fn scoped_definition(scope: Scope, key: &str) -> Option<Definition> {
    use Definition::{Iri, Plain, Scoped, Type, Vocab};
    let definition = match (scope, key) {
        (Scope::BizTransaction, "bizTransaction") => Iri,
        (Scope::BizTransaction, "type") => Vocab(vocab::BIZ_TRANSACTION_TYPE),
        (Scope::SourceDestination, "source" | "destination") => Iri,
        (Scope::SourceDestination, "type") => Vocab(vocab::SOURCE_DESTINATION_TYPE),
        (Scope::PersistentDisposition, "set" | "unset") => Vocab(vocab::DISPOSITION),
        (
            Scope::SensorElement,
            "deviceID" | "deviceMetadata" | "rawData" | "dataProcessingMethod",
        ) => Iri,
        (Scope::SensorElement, "time") => Plain,
        (Scope::SensorElement, "type") => Type,
        (Scope::SensorElement, "sensorMetadata") => Scoped(Scope::SensorMetadata),
        (Scope::SensorElement, "sensorReport") => Scoped(Scope::SensorReport),
        (Scope::SensorMetadata, "startTime" | "endTime") => Plain,
        (Scope::SensorMetadata, "bizRules") => Iri,
        (Scope::SensorReport, "type") => Vocab(vocab::MEASUREMENT_TYPE),
        (Scope::SensorReport, "exception") => Vocab(vocab::SENSOR_ALERT),
        (Scope::SensorReport, "component") => Vocab(vocab::COMPONENT),
        (
            Scope::SensorReport,
            "coordinateReferenceSystem" | "microorganism" | "chemicalSubstance" | "uriValue",
        ) => Iri,
        (
            Scope::SensorReport,
            "time" | "value" | "stringValue" | "booleanValue" | "hexBinaryValue" | "minValue"
            | "maxValue" | "meanValue" | "sDev" | "percRank" | "percValue",
        ) => Plain,
        (Scope::ErrorDeclaration, "reason") => Vocab(vocab::ERROR_REASON),
        (Scope::ErrorDeclaration, "correctiveEventIDs") => Iri,
        (Scope::ErrorDeclaration, "declarationTime") => Plain,
        _ => return None,
    };
    Some(definition)
}

fn top_level_definition(key: &str) -> Option<Definition> {
    use Definition::{Iri, Plain, Scoped, Skip, Type, Vocab};
    let definition = match key {
        "id" | "eventID" | "@id" => Iri,
        "type" | "@type" => Type,
        "baseURL" | "@context" => Skip,
        "member" | "certificationInfo" | "bizLocation" | "readPoint" | "transformationID"
        | "epcList" | "epcClass" | "parentID" | "childEPCs" | "inputEPCList" | "outputEPCList"
        | "children" => Iri,
        "bizStep" => Vocab(vocab::BIZ_STEP),
        "disposition" => Vocab(vocab::DISPOSITION),
        "sourceList" | "destinationList" => Scoped(Scope::SourceDestination),
        "bizTransactionList" => Scoped(Scope::BizTransaction),
        "persistentDisposition" => Scoped(Scope::PersistentDisposition),
        "sensorElementList" => Scoped(Scope::SensorElement),
        "errorDeclaration" => Scoped(Scope::ErrorDeclaration),
        _ if vocab::TOP_LEVEL_TERMS.contains(&key) => Plain,
        _ => return None,
    };
    Some(definition)
}

fn lookup(scopes: &[Scope], key: &str, context: &Context) -> Definition {
    if let Some(definition) = scopes
        .iter()
        .rev()
        .find_map(|scope| scoped_definition(*scope, key))
    {
        return definition;
    }
    if let Some(definition) = top_level_definition(key) {
        return definition;
    }
    if key.starts_with('@') || key.contains(':') || context.prefixes.contains_key(key) {
        Definition::Plain
    } else {
        Definition::Skip
    }
}

/// Adds to `out` the standard-vocabulary IRIs that JSON-LD expansion of
/// `value` (with the GS1 context and `context`'s inline declarations) yields.
pub(crate) fn collect_vocabulary(value: &Value, context: &Context, out: &mut BTreeSet<String>) {
    let mut scopes = Vec::new();
    walk_value(value, Definition::Plain, &mut scopes, context, out);
}

fn walk_value(
    value: &Value,
    definition: Definition,
    scopes: &mut Vec<Scope>,
    context: &Context,
    out: &mut BTreeSet<String>,
) {
    match value {
        Value::String(text) => {
            let expanded = match definition {
                Definition::Skip | Definition::Scoped(_) | Definition::Plain => {
                    Cow::Borrowed(text.as_str())
                }
                Definition::Iri => context.expand_iri(text, false),
                Definition::Type => context.expand_iri(text, true),
                Definition::Vocab(terms) => match terms.expand(text) {
                    Some(iri) => Cow::Owned(iri),
                    None => context.expand_iri(text, true),
                },
            };
            if is_standard_vocabulary(&expanded) {
                out.insert(expanded.into_owned());
            }
        }
        Value::Array(items) => {
            for item in items {
                walk_value(item, definition, scopes, context, out);
            }
        }
        Value::Object(map) => {
            for (key, child) in map {
                match lookup(scopes, key, context) {
                    Definition::Skip => {}
                    Definition::Scoped(scope) => {
                        scopes.push(scope);
                        walk_value(child, Definition::Plain, scopes, context, out);
                        scopes.pop();
                    }
                    other => walk_value(child, other, scopes, context, out),
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "@context": [
                "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                {"example": "https://ns.example.com/epcis/"},
                {"cbvmda": "urn:epcglobal:cbv:mda:", "rail:x": {"@type": "@id"}},
                {}
            ],
            "type": "EPCISDocument",
            "epcisBody": {"eventList": [{
                "type": "ObjectEvent",
                "bizStep": "shipping",
                "disposition": "https://ref.gs1.org/cbv/Disp-in_transit",
                "bizTransactionList": [{"type": "po", "bizTransaction": "urn:x"}],
                "sensorElementList": [{"sensorReport": [{"type": "Temperature", "component": "x"}]}],
                "unknownBareKey": "https://gs1.org/voc/Dropped",
                "example:ext": "https://gs1.org/voc/Kept",
                "readPoint": {"id": "cbv:BizStep-other"}
            }]}
        })
    }

    #[test]
    fn prefixes_from_context() {
        let context = Context::from_document(&sample());
        assert_eq!(
            context.prefix("example"),
            Some("https://ns.example.com/epcis/")
        );
        assert_eq!(context.prefix("cbvmda"), Some("urn:epcglobal:cbv:mda:"));
        assert_eq!(context.prefix("rail:x"), None);
        // The GS1 context's own prefixes are not used for renaming.
        assert_eq!(context.prefix("gs1"), None);
    }

    #[test]
    fn curie_expansion() {
        let context = Context::new()
            .with_prefix("example", "https://ns.example.com/epcis/")
            .with_prefix("gs1", "https://gs1.org/voc/");
        assert_eq!(
            context.expand_key("example:myField"),
            "{https://ns.example.com/epcis/}myField"
        );
        assert_eq!(context.expand_key("other:myField"), "other:myField");
        assert_eq!(context.expand_key("bizStep"), "bizStep");
        assert_eq!(
            context.expand_value("gs1:Temperature"),
            "https://gs1.org/voc/Temperature"
        );
        assert_eq!(
            context.expand_value("urn:epc:id:sgtin:1.2.3"),
            "urn:epc:id:sgtin:1.2.3"
        );
        assert_eq!(
            Context::new().expand_value("gs1:Temperature"),
            "gs1:Temperature"
        );
    }

    #[test]
    fn vocabulary_emulates_expansion() {
        let context = Context::from_document(&sample());
        let expected: BTreeSet<String> = [
            "https://ref.gs1.org/cbv/BizStep-shipping",
            "https://ref.gs1.org/cbv/Disp-in_transit",
            "https://ref.gs1.org/cbv/BTT-po",
            "https://gs1.org/voc/Temperature",
            "https://ref.gs1.org/cbv/Comp-x",
            "https://gs1.org/voc/Kept",
            "https://ref.gs1.org/cbv/BizStep-other",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(context.vocabulary, expected);
    }

    #[test]
    fn bare_strings() {
        let vocabulary: BTreeSet<String> = [
            "https://ref.gs1.org/cbv/BizStep-shipping",
            "https://ref.gs1.org/cbv/Disp-active",
            "https://ref.gs1.org/cbv/Disp-inactive",
            "https://gs1.org/voc/Temperature",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(
            bare_string_expansion(&vocabulary, "shipping"),
            Some("https://ref.gs1.org/cbv/BizStep-shipping")
        );
        assert_eq!(
            bare_string_expansion(&vocabulary, "active"),
            Some("https://ref.gs1.org/cbv/Disp-active")
        );
        assert_eq!(
            bare_string_expansion(&vocabulary, "Temperature"),
            Some("https://gs1.org/voc/Temperature")
        );
        assert_eq!(bare_string_expansion(&vocabulary, "hipping"), None);
        assert_eq!(bare_string_expansion(&vocabulary, "other"), None);
    }
}
