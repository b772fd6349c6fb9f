//! Which answer a request gets: HTML or the JSON API's.

/// True when `accept` prefers HTML: `text/html` (or
/// `application/xhtml+xml`) is named with a quality strictly higher than
/// every JSON type, `application/*` and `*/*`. No header, `*/*`, JSON,
/// problem or EPCIS types and ties keep JSON.
pub fn wants_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let mut html = 0u32;
    let mut other = 0u32;
    for item in accept.split(',').take(64) {
        let mut parts = item.split(';');
        let kind = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1000u32;
        for p in parts {
            let p = p.trim();
            if let Some(v) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                q = quality(v.trim());
            }
        }
        let is_json = kind == "*/*"
            || kind == "application/*"
            || kind == "application/json"
            || kind.ends_with("+json");
        if kind == "text/html" || kind == "application/xhtml+xml" {
            html = html.max(q);
        } else if is_json {
            other = other.max(q);
        }
    }
    html > 0 && html > other
}

/// An RFC 9110 quality value in thousandths; anything malformed is 0.
fn quality(v: &str) -> u32 {
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let frac_value = format!("{frac:0<3}").parse::<u32>().unwrap_or(0);
    match whole {
        "0" => frac_value,
        "1" if frac_value == 0 => 1000,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::wants_html;

    #[test]
    fn browsers_get_html_and_api_clients_json() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(wants_html(Some(browser)));
        assert!(wants_html(Some("text/html")));
        for json in [
            None,
            Some(""),
            Some("*/*"),
            Some("application/json"),
            Some("application/problem+json"),
            Some("application/ld+json"),
            Some("text/html, application/json"),
            Some("application/json, text/html;q=0.9"),
            Some("text/html;q=0"),
            Some("text/html;q=0.5, */*"),
            Some("text/html;q=2"),
        ] {
            assert!(!wants_html(json), "{json:?}");
        }
        assert!(wants_html(Some("application/json;q=0.5, text/html")));
    }
}
