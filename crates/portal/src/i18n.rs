//! The message catalogues (`i18n/en.txt`, `i18n/ur.txt`: `key = value`
//! lines, `#` comments), built into the binary and parsed once.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A language of the portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ur,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ur];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ur => "ur",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "ur" => Some(Lang::Ur),
            _ => None,
        }
    }

    /// `ltr` or `rtl`.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::En => "ltr",
            Lang::Ur => "rtl",
        }
    }

    /// The other language (the switch on every page).
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ur,
            Lang::Ur => Lang::En,
        }
    }

    /// The language an `Accept-Language` header prefers among those the
    /// portal has (by quality, then order), if it names one.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, u32)> = None;
        for item in header.split(',').take(32) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            let Some(lang) = Lang::parse(primary) else {
                continue;
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|v| v.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            // Thousandths: an integer comparison.
            let q = (q.clamp(0.0, 1.0) * 1000.0) as u32;
            if q > 0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((lang, q));
            }
        }
        best.map(|(l, _)| l)
    }
}

const EN: &str = include_str!("../i18n/en.txt");
const UR: &str = include_str!("../i18n/ur.txt");

/// One language's catalogue.
#[derive(Debug)]
pub struct Messages {
    lang: Lang,
    map: BTreeMap<&'static str, &'static str>,
}

/// Parses a catalogue: `key = value` per line; blank lines and `#`
/// comments skipped. Lines without `=` are an error (reported by
/// [`check`]); a key given twice keeps the last.
pub fn parse(text: &'static str) -> Result<BTreeMap<&'static str, &'static str>, String> {
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("line {}: no `=`", n + 1))?;
        if map.insert(key.trim(), value.trim()).is_some() {
            return Err(format!("line {}: {} is given twice", n + 1, key.trim()));
        }
    }
    Ok(map)
}

/// The raw catalogue text of a language (for the completeness test).
pub fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => EN,
        Lang::Ur => UR,
    }
}

impl Messages {
    /// The catalogue of `lang`.
    pub fn of(lang: Lang) -> &'static Messages {
        static EN_M: OnceLock<Messages> = OnceLock::new();
        static UR_M: OnceLock<Messages> = OnceLock::new();
        let cell = match lang {
            Lang::En => &EN_M,
            Lang::Ur => &UR_M,
        };
        cell.get_or_init(|| Messages {
            lang,
            // A malformed catalogue fails the catalogue test; at run time
            // it degrades to showing keys.
            map: parse(source(lang)).unwrap_or_default(),
        })
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The label for `key` (the key itself if the catalogue lacks it,
    /// which the catalogue test forbids).
    pub fn t<'a>(&self, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        self.map.get(key).copied().unwrap_or(key)
    }

    /// The labels the scripts read (`js.` keys), as JSON safe to place in
    /// a `<script type="application/json">` element.
    pub fn script_json(&self) -> String {
        let subset: serde_json::Map<String, serde_json::Value> = self
            .map
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("js.")
                    .map(|k| (k.to_owned(), serde_json::Value::from(*v)))
            })
            .collect();
        serde_json::Value::Object(subset)
            .to_string()
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026")
    }

    /// Keys of this catalogue.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.map.keys().copied()
    }

    /// A number for this language ([`crate::fmt::number`]).
    pub fn num(&self, text: &str) -> String {
        crate::fmt::number(self.lang, text)
    }

    /// A date or time for this language ([`crate::fmt::date`]).
    pub fn date(&self, text: &str) -> String {
        crate::fmt::date(self, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_by_quality() {
        assert_eq!(
            Lang::from_accept_language("ur-PK,ur;q=0.9,en;q=0.8"),
            Some(Lang::Ur)
        );
        assert_eq!(Lang::from_accept_language("en-GB,ur;q=0.5"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("fr, ur;q=0.4, en;q=0.3"),
            Some(Lang::Ur)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language("ur;q=0"), None);
    }

    #[test]
    fn script_json_cannot_close_its_element() {
        let json = Messages::of(Lang::En).script_json();
        assert!(!json.contains('<') && !json.contains('>'));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert!(value["verify.checkpoint"].is_string(), "{json}");
    }
}
