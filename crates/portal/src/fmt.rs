//! Numbers and dates per language.
//!
//! English: digits grouped by three with `,`, `.` decimal point; dates
//! `8 Sep 2025`, times `8 Sep 2025, 09:00 UTC`. Urdu: Eastern
//! Arabic-Indic digits (U+06F0–U+06F9, the Urdu forms), grouped by three
//! with `٬` (U+066C), `٫` (U+066B) decimal separator; dates `۸ ستمبر
//! ۲۰۲۵` with month names from the catalogue. Text that is not a plain
//! decimal number or an ISO date is returned unchanged.

use crate::i18n::{Lang, Messages};

/// Formats the decimal text `text` (`-1234567.25`) for `lang`; other
/// text unchanged.
pub fn number(lang: Lang, text: &str) -> String {
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return text.to_owned();
    }
    let (group, point) = match lang {
        Lang::En => (',', '.'),
        Lang::Ur => ('\u{066C}', '\u{066B}'),
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3 + 2);
    out.push_str(sign);
    let n = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push(point);
        out.push_str(f);
    }
    localise_digits(lang, &out)
}

/// An integer for `lang`.
pub fn integer(lang: Lang, n: u64) -> String {
    number(lang, &n.to_string())
}

/// ASCII digits written in `lang`'s digits.
pub fn localise_digits(lang: Lang, text: &str) -> String {
    match lang {
        Lang::En => text.to_owned(),
        Lang::Ur => text
            .chars()
            .map(|c| match c.to_digit(10) {
                Some(d) if c.is_ascii_digit() => char::from_u32(0x06F0 + d).unwrap_or(c),
                _ => c,
            })
            .collect(),
    }
}

/// Formats an ISO date (`2025-09-08`) or RFC 3339 UTC time
/// (`2025-09-08T09:00:00Z`) for the catalogue's language; other text
/// unchanged.
pub fn date(m: &Messages, text: &str) -> String {
    let (day, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let parts: Vec<&str> = day.split('-').collect();
    let [y, mo, d] = parts.as_slice() else {
        return text.to_owned();
    };
    let ok = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    if !ok(y, 4) || !ok(mo, 2) || !ok(d, 2) {
        return text.to_owned();
    }
    let month_key = match *mo {
        "01" => "month.1",
        "02" => "month.2",
        "03" => "month.3",
        "04" => "month.4",
        "05" => "month.5",
        "06" => "month.6",
        "07" => "month.7",
        "08" => "month.8",
        "09" => "month.9",
        "10" => "month.10",
        "11" => "month.11",
        "12" => "month.12",
        _ => return text.to_owned(),
    };
    let day_number = d.trim_start_matches('0');
    let mut out = format!("{day_number} {} {y}", m.t(month_key));
    if let Some(t) = time {
        let hm = t.get(0..5).filter(|hm| hm.as_bytes().get(2) == Some(&b':'));
        if let Some(hm) = hm
            && t.ends_with('Z')
        {
            out.push_str(&format!("، {hm} UTC"));
            if m.lang() == Lang::En {
                out = out.replace('،', ",");
            }
        }
    }
    localise_digits(m.lang(), &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_group_per_language() {
        assert_eq!(number(Lang::En, "1234567.25"), "1,234,567.25");
        assert_eq!(number(Lang::En, "-123"), "-123");
        assert_eq!(number(Lang::En, "1000"), "1,000");
        assert_eq!(number(Lang::Ur, "1234.5"), "۱٬۲۳۴٫۵");
        assert_eq!(number(Lang::En, "n/a"), "n/a");
        assert_eq!(number(Lang::En, "1.2.3"), "1.2.3");
        assert_eq!(number(Lang::En, ""), "");
    }

    #[test]
    fn dates_per_language() {
        let en = Messages::of(Lang::En);
        let ur = Messages::of(Lang::Ur);
        assert_eq!(date(en, "2025-09-08"), "8 Sep 2025");
        assert_eq!(date(en, "2025-09-08T09:05:00Z"), "8 Sep 2025, 09:05 UTC");
        assert_eq!(date(ur, "2025-09-08"), "۸ ستمبر ۲۰۲۵");
        assert_eq!(date(en, "not a date"), "not a date");
        assert_eq!(date(en, "2025-13-01"), "2025-13-01");
    }
}
