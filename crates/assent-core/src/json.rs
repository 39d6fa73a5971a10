//! A small JSON reader for the config and locale files, and typed access that names the field on error.
//!
//! Why not serde: in the browser bundle, serde's derives with serde_path_to_error and
//! serde-wasm-bindgen cost about 65 KB of wasm before optimisation (measured with `twiggy`; see
//! docs/performance.md). This reader is a few KB, keeps numbers as their source text (no float
//! code is linked) and reports `line:column` for syntax errors and `purposes[3].id` for type errors.

use crate::error::ConfigError;

/// A parsed JSON value. Objects keep their members in source order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses a whole document.
    pub fn parse(text: &str) -> Result<Json, ConfigError> {
        let mut p = Parser { s: text.as_bytes(), i: 0, text };
        p.ws();
        let v = p.value(0)?;
        p.ws();
        if p.i < p.s.len() {
            return Err(p.err("unexpected text after the JSON value"));
        }
        Ok(v)
    }

    /// How the value reads in an error message: "the number 42", "a string", "an object".
    pub fn describe(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Bool(b) => format!("`{b}`"),
            Json::Number(n) => format!("the number {n}"),
            Json::String(s) => format!("the string \"{s}\""),
            Json::Array(_) => "an array".into(),
            Json::Object(_) => "an object".into(),
        }
    }

    /// Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) for the values Assent writes:
    /// object members sorted by UTF-16 code units, no whitespace, strings escaped as ECMAScript's
    /// `JSON.stringify` does. Numbers are written as stored; Assent only stores integers, whose
    /// canonical form is their plain decimal digits.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        self.write_canonical(&mut out);
        out
    }

    fn write_canonical(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(n),
            Json::String(s) => write_string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_canonical(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                let mut sorted: Vec<&(String, Json)> = members.iter().collect();
                sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
                out.push('{');
                for (i, (key, value)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    value.write_canonical(out);
                }
                out.push('}');
            }
        }
    }

    /// The object's members, or `None`.
    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> ConfigError {
        let before = &self.text.as_bytes()[..self.i.min(self.s.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        ConfigError::Syntax(format!("{what} at line {line} column {column}"))
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: u32) -> Result<Json, ConfigError> {
        if depth > 64 {
            return Err(self.err("nesting deeper than 64 levels"));
        }
        match self.s.get(self.i) {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.eat("}") {
                    return Ok(Json::Object(members));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(self.err("expected a \"key\""));
                    }
                    let key = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return Err(self.err("expected `:`"));
                    }
                    self.ws();
                    let v = self.value(depth + 1)?;
                    members.push((key, v));
                    self.ws();
                    if self.eat("}") {
                        return Ok(Json::Object(members));
                    }
                    if !self.eat(",") {
                        return Err(self.err("expected `,` or `}`"));
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Ok(Json::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat("]") {
                        return Ok(Json::Array(items));
                    }
                    if !self.eat(",") {
                        return Err(self.err("expected `,` or `]`"));
                    }
                }
            }
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') if self.eat("true") => Ok(Json::Bool(true)),
            Some(b'f') if self.eat("false") => Ok(Json::Bool(false)),
            Some(b'n') if self.eat("null") => Ok(Json::Null),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                self.eat("-");
                let digits = |p: &mut Self| {
                    let from = p.i;
                    while p.i < p.s.len() && p.s[p.i].is_ascii_digit() {
                        p.i += 1;
                    }
                    p.i > from
                };
                let mut ok = digits(self);
                if self.eat(".") {
                    ok &= digits(self);
                }
                if self.i < self.s.len() && matches!(self.s[self.i], b'e' | b'E') {
                    self.i += 1;
                    if !self.eat("+") {
                        self.eat("-");
                    }
                    ok &= digits(self);
                }
                if !ok {
                    return Err(self.err("malformed number"));
                }
                Ok(Json::Number(self.text[start..self.i].to_string()))
            }
            Some(_) => Err(self.err("expected a JSON value")),
        }
    }

    fn hex4(&mut self) -> Result<u32, ConfigError> {
        let h = self.text.get(self.i..self.i + 4).and_then(|h| u32::from_str_radix(h, 16).ok());
        let h = h.ok_or_else(|| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(h)
    }

    fn string(&mut self) -> Result<String, ConfigError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.i < self.s.len() && !matches!(self.s[self.i], b'"' | b'\\' | 0..=0x1f) {
                self.i += 1;
            }
            out.push_str(&self.text[start..self.i]);
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = *self.s.get(self.i).ok_or_else(|| self.err("unterminated string"))?;
                    self.i += 1;
                    out.push(match c {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xd800..0xdc00).contains(&code) && self.eat("\\u") {
                                let low = self.hex4()?;
                                code = 0x10000 + ((code - 0xd800) << 10) + (low.wrapping_sub(0xdc00) & 0x3ff);
                            }
                            char::from_u32(code).ok_or_else(|| self.err("bad \\u escape"))?
                        }
                        _ => return Err(self.err("bad escape")),
                    });
                }
                Some(_) => return Err(self.err("control character in string")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }
}

/// Typed reading of one object, with the path used in errors and a check for unknown fields.
pub struct Fields<'a> {
    path: String,
    members: &'a [(String, Json)],
}

/// The path of a member: `purposes[3]` + `id` → `purposes[3].id`.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// An error at `path`.
pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { path: path.into(), message: message.into() }
}

fn expected(path: &str, what: &str, found: &Json) -> ConfigError {
    invalid(path, format!("expected {what}, found {}", found.describe()))
}

impl<'a> Fields<'a> {
    /// Reads `value` at `path` as an object whose keys are all in `known`.
    pub fn new(value: &'a Json, path: &str, known: &[&str]) -> Result<Fields<'a>, ConfigError> {
        let members = value.as_object().ok_or_else(|| expected(path, "an object", value))?;
        for (key, _) in members {
            if !known.contains(&key.as_str()) {
                let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                return Err(invalid(
                    join(path, key),
                    format!("unknown field, expected one of {}", crate::joined(&list, ", ")),
                ));
            }
        }
        Ok(Fields { path: path.to_string(), members })
    }

    /// The path of `key` in this object.
    pub fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The raw member, if present and not null.
    pub fn get(&self, key: &str) -> Option<&'a Json> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| **v != Json::Null)
    }

    /// A required member.
    pub fn required(&self, key: &str) -> Result<&'a Json, ConfigError> {
        self.get(key).ok_or_else(|| invalid(self.path(key), "missing: this field is required"))
    }

    /// An optional string.
    pub fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        self.get(key).map(|v| as_string(v, &self.path(key))).transpose()
    }

    /// An optional boolean.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(expected(&self.path(key), "`true` or `false`", v)),
        }
    }

    /// An optional whole number that fits in `u32`.
    pub fn u32(&self, key: &str) -> Result<Option<u32>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Number(n)) => n
                .parse()
                .map(Some)
                .map_err(|_| invalid(self.path(key), format!("expected a whole number of days, found {n}"))),
            Some(v) => Err(expected(&self.path(key), "a number", v)),
        }
    }

    /// An optional array, read item by item with `item(value, path)`.
    pub fn list<T>(
        &self,
        key: &str,
        item: impl Fn(&'a Json, &str) -> Result<T, ConfigError>,
    ) -> Result<Option<Vec<T>>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Array(items)) => {
                let path = self.path(key);
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| item(v, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()
                    .map(Some)
            }
            Some(v) => Err(expected(&self.path(key), "an array", v)),
        }
    }
}

/// A string at `path`.
pub fn as_string(value: &Json, path: &str) -> Result<String, ConfigError> {
    match value {
        Json::String(s) => Ok(s.clone()),
        v => Err(expected(path, "a string", v)),
    }
}

/// A flat object of strings (a locale file): `{"banner.title": "…"}`.
pub fn string_map(value: &Json, path: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let members = value.as_object().ok_or_else(|| expected(path, "an object of strings", value))?;
    members.iter().map(|(k, v)| Ok((k.clone(), as_string(v, &join(path, k))?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_json_allows() {
        let v = Json::parse(r#" {"a": [1, -2.5e3, true, null], "b": "x\"\u00e9\ud83d\ude00\n", "c": {}} "#).unwrap();
        assert_eq!(
            v,
            Json::Object(vec![
                (
                    "a".into(),
                    Json::Array(vec![
                        Json::Number("1".into()),
                        Json::Number("-2.5e3".into()),
                        Json::Bool(true),
                        Json::Null
                    ])
                ),
                ("b".into(), Json::String("x\"é😀\n".into())),
                ("c".into(), Json::Object(vec![])),
            ])
        );
    }

    #[test]
    fn syntax_errors_say_where() {
        let table = [
            ("{\"a\": 1,}", "config is not valid JSON: expected a \"key\" at line 1 column 9"),
            ("{\n  \"a\": tru\n}", "config is not valid JSON: expected a JSON value at line 2 column 8"),
            ("[1 2]", "config is not valid JSON: expected `,` or `]` at line 1 column 4"),
            ("\"abc", "config is not valid JSON: unterminated string at line 1 column 5"),
            ("{} x", "config is not valid JSON: unexpected text after the JSON value at line 1 column 4"),
            ("", "config is not valid JSON: unexpected end of input at line 1 column 1"),
        ];
        for (text, want) in table {
            assert_eq!(Json::parse(text).unwrap_err().to_string(), want, "{text:?}");
        }
    }
}
