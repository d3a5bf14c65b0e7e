//! One response tree, two encodings.
//!
//! Handlers build a [`Node`] tree once; [`Node::write_json`] and [`Node::write_xml`] encode
//! it in one pass with Alibaba's list convention: a list is wrapped in an object keyed by its
//! singular name, `"Permissions": {"Permission": [...]}` ↔
//! `<Permissions><Permission>…</Permission></Permissions>`.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The response format a client asked for (docs/protocol.md §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json;charset=utf-8",
            // The Python Tea client parses XML errors only with exactly this content type.
            Format::Xml => "text/xml;charset=utf-8",
        }
    }
}

/// A response value. Field and item names are the API's own, hence `'static`.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Str(String),
    /// A constant string (no allocation: enum spellings, fixed values).
    Static(&'static str),
    Int(i64),
    /// A finite decimal (`MemorySize` in GiB); rendered in the shortest form that reads
    /// back as the same value (`8`, `0.5`); a non-finite value renders as `0`.
    Float(f64),
    Bool(bool),
    /// Fields in output order.
    Object(Vec<(&'static str, Node)>),
    /// A wrapped list: rendered as `{"<item>": [...]}` / repeated `<item>` elements.
    List {
        item: &'static str,
        items: Vec<Node>,
    },
    /// A document whose field names are data, not the API's (ActionTrail's events, with
    /// the request parameters they record): JSON as it is; in XML objects become elements
    /// and an array's items repeated elements of the array's name.
    Json(serde_json::Value),
}

impl Node {
    pub fn object() -> ObjectBuilder {
        ObjectBuilder(Vec::new())
    }

    /// An object builder with room for `fields` fields (large, repeated objects).
    pub fn object_with_capacity(fields: usize) -> ObjectBuilder {
        ObjectBuilder(Vec::with_capacity(fields))
    }

    pub fn list(item: &'static str, items: impl IntoIterator<Item = Node>) -> Node {
        Node::List {
            item,
            items: items.into_iter().collect(),
        }
    }

    pub fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    /// Appends this node as JSON.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Node::Str(s) => push_json_string(s, out),
            Node::Static(s) => push_json_string(s, out),
            Node::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Node::Float(f) => push_float(*f, out),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Object(fields) => write_json_fields(fields.iter().map(|(k, v)| (*k, v)), out),
            Node::List { item, items } => {
                out.push('{');
                push_json_string(item, out);
                out.push_str(":[");
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    it.write_json(out);
                }
                out.push_str("]}");
            }
            Node::Json(value) => out.push_str(&value.to_string()),
        }
    }

    /// Appends `<name>…</name>` for this node.
    pub fn write_xml(&self, name: &str, out: &mut String) {
        match self {
            Node::List { item, items } => {
                push_open(name, out);
                for it in items {
                    it.write_xml(item, out);
                }
                push_close(name, out);
            }
            Node::Object(fields) => {
                push_open(name, out);
                for (k, v) in fields {
                    v.write_xml(k, out);
                }
                push_close(name, out);
            }
            Node::Str(s) => push_xml_text(name, s, out),
            Node::Static(s) => push_xml_text(name, s, out),
            Node::Int(i) => {
                push_open(name, out);
                let _ = write!(out, "{i}");
                push_close(name, out);
            }
            Node::Float(f) => {
                push_open(name, out);
                push_float(*f, out);
                push_close(name, out);
            }
            Node::Bool(b) => {
                push_open(name, out);
                out.push_str(if *b { "true" } else { "false" });
                push_close(name, out);
            }
            Node::Json(value) => write_json_value_xml(name, value, out),
        }
    }

    /// The JSON text of this node.
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }
}

/// A JSON value as XML under `name` (see [`Node::Json`]).
fn write_json_value_xml(name: &str, value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Array(items) => {
            for item in items {
                write_json_value_xml(name, item, out);
            }
        }
        Value::Object(map) => {
            push_open(name, out);
            for (k, v) in map {
                write_json_value_xml(&xml_name(k), v, out);
            }
            push_close(name, out);
        }
        Value::String(s) => push_xml_text(name, s, out),
        Value::Null => {
            push_open(name, out);
            push_close(name, out);
        }
        other => push_xml_text(name, &other.to_string(), out),
    }
}

/// `key` as an XML element name: letters, digits, `_`, `-` and `.` kept, anything else
/// (and a leading digit, `-` or `.`) replaced by `_`.
fn xml_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    name
}

fn write_json_fields<'a>(fields: impl Iterator<Item = (&'a str, &'a Node)>, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_key(k, out);
        out.push(':');
        v.write_json(out);
    }
    out.push('}');
}

/// A field name: the API's own PascalCase names never need escaping, so they are copied
/// as they are (large responses write tens of thousands of them).
fn push_json_key(key: &str, out: &mut String) {
    debug_assert!(
        !key.bytes().any(needs_json_escape),
        "field name {key:?} needs escaping"
    );
    out.push('"');
    out.push_str(key);
    out.push('"');
}

fn needs_json_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// A JSON string literal (RFC 8259 escaping; non-ASCII is written as is, in UTF-8). Runs of
/// bytes that need no escape are copied whole: this is the hot loop of large responses.
fn push_json_string(s: &str, out: &mut String) {
    out.push('"');
    // Most values need no escape at all: copy them in one go.
    if !s.bytes().any(needs_json_escape) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        // Escapes are ASCII, so `i` is always a character boundary.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// `<name>text</name>`, the text escaped.
fn push_xml_text(name: &str, text: &str, out: &mut String) {
    push_open(name, out);
    push_xml_escaped(text, out);
    push_close(name, out);
}

fn push_open(name: &str, out: &mut String) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn push_close(name: &str, out: &mut String) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes XML text content (docs/protocol.md §5.3): the five markup characters as entities,
/// `\r` as `&#13;` (a raw one would be read back as `\n` by XML 1.0's end-of-line handling),
/// and every character XML 1.0 forbids in a document (U+0000-U+0008, U+000B, U+000C,
/// U+000E-U+001F, U+FFFE, U+FFFF) replaced by U+FFFD, whatever is stored: one such
/// character would make the whole response ill-formed.
fn push_xml_escaped(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (escape, width) = match b {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&apos;", 1),
            b'\r' => ("&#13;", 1),
            b'\t' | b'\n' => {
                i += 1;
                continue;
            }
            0..=0x1f => ("\u{FFFD}", 1),
            // U+FFFE and U+FFFF are EF BF BE and EF BF BF in UTF-8.
            0xEF if matches!(bytes.get(i + 1..i + 3), Some([0xBF, 0xBE | 0xBF])) => ("\u{FFFD}", 3),
            _ => {
                i += 1;
                continue;
            }
        };
        // Every escaped sequence starts at an ASCII byte or a lead byte and covers whole
        // characters, so `start` and `i` are character boundaries.
        out.push_str(&s[start..i]);
        out.push_str(escape);
        i += width;
        start = i;
    }
    out.push_str(&s[start..]);
}

/// `s` with every character XML 1.0 forbids replaced by U+FFFD and nothing else changed:
/// for text that is not escaped (CDATA sections).
pub fn xml_chars_only(s: &str) -> Cow<'_, str> {
    if !s.chars().any(forbidden_in_xml) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if forbidden_in_xml(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// The characters XML 1.0's `Char` production leaves out (surrogates cannot be in a `str`).
pub fn forbidden_in_xml(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}'
    )
}

/// Escapes text content for XML.
fn push_float(f: f64, out: &mut String) {
    if f.is_finite() {
        let _ = write!(out, "{f}");
    } else {
        out.push('0');
    }
}

pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_xml_escaped(s, &mut out);
    out
}

/// Builds an object node field by field.
pub struct ObjectBuilder(Vec<(&'static str, Node)>);

impl ObjectBuilder {
    pub fn field(mut self, key: &'static str, value: Node) -> Self {
        self.0.push((key, value));
        self
    }
    pub fn str(self, key: &'static str, value: impl Into<String>) -> Self {
        self.field(key, Node::Str(value.into()))
    }
    /// A constant string field (no allocation).
    pub fn static_str(self, key: &'static str, value: &'static str) -> Self {
        self.field(key, Node::Static(value))
    }
    pub fn float(self, key: &'static str, value: f64) -> Self {
        self.field(key, Node::Float(value))
    }
    pub fn int(self, key: &'static str, value: i64) -> Self {
        self.field(key, Node::Int(value))
    }
    pub fn bool(self, key: &'static str, value: bool) -> Self {
        self.field(key, Node::Bool(value))
    }
    pub fn build(self) -> Node {
        Node::Object(self.0)
    }
}

/// The success body: `RequestId` and then the handler's fields, as JSON or as
/// `<{Action}Response>` XML.
pub fn success_body(format: Format, action: &str, request_id: &str, body: &Node) -> String {
    let fields: &[(&'static str, Node)] = match body {
        Node::Object(fields) => fields,
        _ => &[],
    };
    let request_id_node = Node::Str(request_id.to_string());
    let all = std::iter::once(("RequestId", &request_id_node)).chain(
        fields
            .iter()
            .filter(|(k, _)| *k != "RequestId")
            .map(|(k, v)| (*k, v)),
    );
    let mut out = String::with_capacity(256);
    match format {
        Format::Json => write_json_fields(all, &mut out),
        Format::Xml => {
            out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?><");
            out.push_str(action);
            out.push_str("Response>");
            for (k, v) in all {
                v.write_xml(k, &mut out);
            }
            out.push_str("</");
            out.push_str(action);
            out.push_str("Response>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_render_in_their_shortest_form() {
        let node = Node::object()
            .float("A", 8.0)
            .float("B", 0.5)
            .float("C", f64::NAN)
            .build();
        assert_eq!(node.to_json_string(), r#"{"A":8,"B":0.5,"C":0}"#);
        let mut xml = String::new();
        node.write_xml("X", &mut xml);
        assert_eq!(xml, "<X><A>8</A><B>0.5</B><C>0</C></X>");
    }

    fn sample() -> Node {
        Node::object()
            .str("SecurityGroupId", "sg-1")
            .field(
                "Permissions",
                Node::list(
                    "Permission",
                    [Node::object()
                        .str("Priority", "1")
                        .str("Description", "a<b \"q\" \\ é\n")
                        .build()],
                ),
            )
            .field("Tags", Node::list("Tag", []))
            .int("TotalCount", -3)
            .bool("ServiceManaged", false)
            .build()
    }

    #[test]
    fn json_wraps_lists_in_their_singular_name() {
        let body = success_body(Format::Json, "X", "RID", &sample());
        assert_eq!(
            body,
            r#"{"RequestId":"RID","SecurityGroupId":"sg-1","Permissions":{"Permission":[{"Priority":"1","Description":"a<b \"q\" \\ é\n"}]},"Tags":{"Tag":[]},"TotalCount":-3,"ServiceManaged":false}"#
        );
    }

    #[test]
    fn json_is_what_serde_json_reads_back() {
        let body = success_body(Format::Json, "X", "RID", &sample());
        let v: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        assert_eq!(
            v["Permissions"]["Permission"][0]["Description"],
            "a<b \"q\" \\ é\n"
        );
        assert_eq!(Node::Str("\u{1}".into()).to_json_string(), "\"\\u0001\"");
    }

    #[test]
    fn constant_strings_render_like_owned_ones() {
        let owned = Node::object().str("Policy", "Accept & <Drop>").build();
        let constant = Node::object()
            .static_str("Policy", "Accept & <Drop>")
            .build();
        for format in [Format::Json, Format::Xml] {
            assert_eq!(
                success_body(format, "X", "R", &owned),
                success_body(format, "X", "R", &constant)
            );
        }
    }

    #[test]
    fn xml_repeats_the_singular_element_and_escapes_text() {
        let body = success_body(Format::Xml, "DescribeX", "RID", &sample());
        assert_eq!(
            body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeXResponse><RequestId>RID</RequestId><SecurityGroupId>sg-1</SecurityGroupId><Permissions><Permission><Priority>1</Priority><Description>a&lt;b &quot;q&quot; \\ é\n</Description></Permission></Permissions><Tags></Tags><TotalCount>-3</TotalCount><ServiceManaged>false</ServiceManaged></DescribeXResponse>"
        );
    }

    #[test]
    fn xml_replaces_forbidden_characters_and_writes_cr_as_a_reference() {
        assert_eq!(
            escape_xml("a\u{0}b\u{1b}c\rd\te\nf\u{FFFE}g\u{FFFF}h\u{FFFD}\u{EFBF}"),
            "a\u{FFFD}b\u{FFFD}c&#13;d\te\nf\u{FFFD}g\u{FFFD}h\u{FFFD}\u{EFBF}"
        );
        let body = success_body(
            Format::Xml,
            "X",
            "R",
            &Node::object().str("Description", "x\u{7}y").build(),
        );
        assert!(
            body.contains("<Description>x\u{FFFD}y</Description>"),
            "{body}"
        );
        assert_eq!(xml_chars_only("a\u{1}]]>\r"), "a\u{FFFD}]]>\r");
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::{escape_xml, Node};

        /// Arbitrary Unicode: any scalar value, control characters and astral planes included.
        fn any_text() -> impl Strategy<Value = String> {
            proptest::collection::vec(any::<char>(), 0..48).prop_map(String::from_iter)
        }

        /// The characters XML 1.0 does not allow in a document (its `Char` production):
        /// U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+FFFE, U+FFFF. (Surrogates cannot
        /// be in a Rust string.)
        fn forbidden_in_xml(c: char) -> bool {
            matches!(
                c,
                '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}'
            )
        }

        /// The text of `<a>escaped</a>` as a conforming XML parser reads it.
        fn parsed_text(escaped: &str) -> Result<String, String> {
            let document = format!("<a>{escaped}</a>");
            let parsed = roxmltree::Document::parse(&document).map_err(|e| e.to_string())?;
            Ok(parsed
                .root_element()
                .children()
                .filter_map(|n| n.text())
                .collect())
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

            /// Any string written as a JSON string literal reads back as itself.
            #[test]
            fn json_strings_round_trip_through_serde_json(s in any_text()) {
                let literal = Node::Str(s.clone()).to_json_string();
                let back: String = serde_json::from_str(&literal)
                    .map_err(|e| TestCaseError::fail(format!("{literal:?}: {e}")))?;
                prop_assert_eq!(back, s);
            }

            /// Escaped text of allowed characters other than `\r` reads back as itself
            /// through an XML parser ([`xml_allowed_characters_round_trip`] adds `\r`).
            #[test]
            fn xml_text_round_trips_through_a_parser(
                s in any_text().prop_map(|s| s.replace(|c| forbidden_in_xml(c) || c == '\r', ""))
            ) {
                prop_assert_eq!(parsed_text(&escape_xml(&s)), Ok(s));
            }
        }

        // Forbidden characters become U+FFFD and `\r` is written as `&#13;` (a raw one is
        // read back as `\n`: XML 1.0's end-of-line handling).
        proptest! {
            #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

            /// Every character XML allows, `\r` included, reads back as itself.
            #[test]
            fn xml_allowed_characters_round_trip(
                s in any_text().prop_map(|s| s.replace(forbidden_in_xml, ""))
            ) {
                prop_assert_eq!(parsed_text(&escape_xml(&s)), Ok(s));
            }

            /// Whatever the string, the output holds no character XML forbids (so the
            /// document parses), and every allowed character reads back where it was: a
            /// forbidden one is replaced by one allowed character.
            #[test]
            fn xml_output_never_holds_a_forbidden_character(s in any_text()) {
                let escaped = escape_xml(&s);
                prop_assert!(!escaped.chars().any(forbidden_in_xml), "{:?}", escaped);
                let back = parsed_text(&escaped).map_err(TestCaseError::fail)?;
                prop_assert_eq!(back.chars().count(), s.chars().count(), "{:?}", back);
                for (given, got) in s.chars().zip(back.chars()) {
                    if forbidden_in_xml(given) {
                        prop_assert_eq!(got, '\u{FFFD}');
                    } else {
                        prop_assert_eq!(given, got);
                    }
                }
            }
        }
    }
}
