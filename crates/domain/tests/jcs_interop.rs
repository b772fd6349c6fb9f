//! The JCS module against an independent implementation: the PyPI
//! `rfc8785` package (pinned in `tests/interop/requirements.txt`, installed
//! into `.venv/interop` by `bash .ci/interop-env`). Both canonicalize the
//! events of the golden files and a few hundred generated JSON texts
//! (awkward number spellings, integers beyond 2^53, nested objects and
//! arrays, non-ASCII, non-BMP and control characters in keys and strings);
//! the bytes must be the same.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The package's canonical text of each input line.
fn python_jcs(inputs: &[String]) -> Vec<String> {
    let python = root().join(".venv/interop/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run bash .ci/interop-env first (it installs the PyPI rfc8785 package)",
        python.display()
    );
    let mut child = Command::new(&python)
        .arg(root().join("tests/interop/jcs_rfc8785.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text = inputs.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "the rfc8785 script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .split('\n')
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), inputs.len() + 1, "one answer per input");
    lines[..inputs.len()].to_vec()
}

fn compare(inputs: &[String]) {
    let theirs = python_jcs(inputs);
    for (input, theirs) in inputs.iter().zip(theirs) {
        let value: Value = serde_json::from_str(input).unwrap();
        let ours = oretrace_domain::jcs::to_string(&value);
        assert_eq!(ours, theirs, "input: {input}");
    }
}

/// The event lines of the golden captured events; the first-encoding
/// one comes out as the new entries' event.
#[test]
fn golden_events_match_the_pypi_package() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut inputs = Vec::new();
    for file in [
        "event-token.record",
        "event-signed.record",
        "event-legacy.record",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("event "))
            .unwrap_or_else(|| panic!("{file} has no event line"));
        inputs.push(line.to_owned());
    }
    compare(&inputs);
    let theirs = python_jcs(&inputs[2..]);
    assert_eq!(
        theirs[0], inputs[0],
        "the legacy event, canonicalized, is the new event"
    );
}

/// A small deterministic generator (xorshift64*), so that a failure
/// names an input that comes back on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// A number as JSON text, in many spellings.
    fn number(&mut self) -> String {
        match self.below(7) {
            0 => self
                .pick(&[
                    "1e21",
                    "1E21",
                    "1e+21",
                    "0.1",
                    "-0",
                    "-0.0",
                    "0",
                    "1.0",
                    "4.50",
                    "2e-3",
                    "1e-7",
                    "0.000001",
                    "9007199254740991",
                    "9007199254740992",
                    "9007199254740993",
                    "-9007199254740993",
                    "18446744073709551615",
                    "18446744073709551616",
                    "-9223372036854775808",
                    "1e308",
                    "-1.7976931348623157e308",
                    "5e-324",
                    "333333333.33333329",
                    "1E30",
                    "0.000000000000000000000000001",
                    "123456789012345678901234567890",
                    "1e20",
                    "1e-6",
                    "100e-8",
                    "12.5",
                ])
                .to_owned(),
            1 => format!("{}", self.next() as i64),
            2 => format!("{}", self.next()),
            3 => format!("{}", self.below(1000) as i64 - 500),
            4 => {
                // A finite double from random bits, in Rust's `{:e}` form.
                let mut x = f64::from_bits(self.next());
                while !x.is_finite() {
                    x = f64::from_bits(self.next());
                }
                format!("{x:e}")
            }
            5 => {
                let x = f64::from_bits(self.next());
                if x.is_finite() {
                    format!("{x}")
                } else {
                    "0.5".to_owned()
                }
            }
            _ => format!(
                "{}{}.{}e{}",
                if self.below(2) == 0 { "-" } else { "" },
                self.below(100_000),
                self.below(1000),
                self.below(80) as i64 - 40
            ),
        }
    }

    /// A string with ASCII, escapes, non-ASCII and non-BMP characters.
    fn string(&mut self) -> String {
        const PIECES: [&str; 24] = [
            "a",
            "Z",
            "1",
            " ",
            "\"",
            "\\",
            "/",
            "\n",
            "\t",
            "\r",
            "\u{8}",
            "\u{c}",
            "\u{1}",
            "\u{1f}",
            "\u{7f}",
            "é",
            "€",
            "\u{2028}",
            "\u{fb33}",
            "\u{e000}",
            "\u{ffff}",
            "😀",
            "𝄞",
            "کراچی",
        ];
        let len = self.below(6);
        let text: String = (0..len)
            .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
            .collect();
        // Written as serde_json writes it, or with every character \u-escaped.
        if self.below(3) == 0 {
            let mut out = String::from("\"");
            for unit in text.encode_utf16() {
                out.push_str(&format!("\\u{unit:04X}"));
            }
            out.push('"');
            out
        } else {
            serde_json::to_string(&text).unwrap()
        }
    }

    fn value(&mut self, depth: u32) -> String {
        let kind = if depth == 0 {
            self.below(4)
        } else {
            self.below(6)
        };
        match kind {
            0 => self.number(),
            1 => self.string(),
            2 => self.pick(&["null", "true", "false"]).to_owned(),
            3 => self.number(),
            4 => {
                let n = self.below(5);
                let items: Vec<String> = (0..n).map(|_| self.value(depth - 1)).collect();
                format!("[ {} ]", items.join(" , "))
            }
            _ => {
                let n = self.below(6);
                let mut seen = std::collections::HashSet::new();
                let mut members = Vec::new();
                for _ in 0..n {
                    let key = self.string();
                    let decoded: String = serde_json::from_str(&key).unwrap();
                    if seen.insert(decoded) {
                        members.push(format!("{key}: {}", self.value(depth - 1)));
                    }
                }
                format!("{{ {} }}", members.join(", "))
            }
        }
    }
}

/// 400 generated texts, objects nested up to four deep.
#[test]
fn generated_json_matches_the_pypi_package() {
    let mut generator = Gen(0x5eed_8785_0000_0001);
    let inputs: Vec<String> = (0..400)
        .map(|i| {
            // Mostly objects (events are), some bare values.
            let text = if i % 4 == 3 {
                generator.value(2)
            } else {
                let inner = generator.value(4);
                format!(
                    "{{\"type\": \"ObjectEvent\", \"x\": {inner}, \"n\": {}}}",
                    generator.number()
                )
            };
            assert!(!text.contains('\n'), "one line per input");
            serde_json::from_str::<Value>(&text)
                .unwrap_or_else(|e| panic!("generated text {text}: {e}"));
            text
        })
        .collect();
    compare(&inputs);
}
