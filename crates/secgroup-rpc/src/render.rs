//! One response tree, two encodings.
//!
//! Handlers build a [`Node`] tree once; [`Node::to_json`] and [`Node::write_xml`] encode it
//! with Alibaba's list convention: a list is wrapped in an object keyed by its singular name,
//! `"Permissions": {"Permission": [...]}` ↔ `<Permissions><Permission>…</Permission></Permissions>`.

use serde_json::{Map, Value};

/// The response format a client asked for (§3.8).
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

/// A response value.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Fields in output order.
    Object(Vec<(String, Node)>),
    /// A wrapped list: rendered as `{"<item>": [...]}` / repeated `<item>` elements.
    List {
        item: &'static str,
        items: Vec<Node>,
    },
}

impl Node {
    pub fn object() -> ObjectBuilder {
        ObjectBuilder(Vec::new())
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

    pub fn to_json(&self) -> Value {
        match self {
            Node::Str(s) => Value::String(s.clone()),
            Node::Int(i) => Value::from(*i),
            Node::Bool(b) => Value::Bool(*b),
            Node::Object(fields) => {
                let mut map = Map::new();
                for (k, v) in fields {
                    map.insert(k.clone(), v.to_json());
                }
                Value::Object(map)
            }
            Node::List { item, items } => {
                let mut map = Map::new();
                map.insert(
                    (*item).to_string(),
                    Value::Array(items.iter().map(Node::to_json).collect()),
                );
                Value::Object(map)
            }
        }
    }

    /// Rebuilds a tree from JSON produced by [`Node::to_json`]. A one-key object whose value
    /// is an array is read back as a wrapped list; `item` names must be `'static`, so the
    /// singular name is leaked only for names not in `KNOWN_ITEMS` (never in practice).
    pub fn from_json(value: &Value) -> Node {
        match value {
            Value::String(s) => Node::Str(s.clone()),
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Int(n.as_i64().unwrap_or_default()),
            Value::Null => Node::Str(String::new()),
            Value::Array(items) => Node::List {
                item: "Item",
                items: items.iter().map(Node::from_json).collect(),
            },
            Value::Object(map) => {
                if map.len() == 1 {
                    if let Some((k, Value::Array(items))) = map.iter().next() {
                        if let Some(item) = static_item_name(k) {
                            return Node::List {
                                item,
                                items: items.iter().map(Node::from_json).collect(),
                            };
                        }
                    }
                }
                Node::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), Node::from_json(v)))
                        .collect(),
                )
            }
        }
    }

    /// Appends `<name>…</name>` for this node to `out`.
    pub fn write_xml(&self, name: &str, out: &mut String) {
        match self {
            Node::List { item, items } => {
                out.push('<');
                out.push_str(name);
                out.push('>');
                for it in items {
                    it.write_xml(item, out);
                }
                push_close(name, out);
            }
            Node::Object(fields) => {
                out.push('<');
                out.push_str(name);
                out.push('>');
                for (k, v) in fields {
                    v.write_xml(k, out);
                }
                push_close(name, out);
            }
            Node::Str(s) => push_leaf(name, &escape_xml(s), out),
            Node::Int(i) => push_leaf(name, &i.to_string(), out),
            Node::Bool(b) => push_leaf(name, if *b { "true" } else { "false" }, out),
        }
    }
}

/// Singular list item names the server emits; used to read stored JSON back as a tree.
const KNOWN_ITEMS: &[&str] = &[
    "Permission",
    "SecurityGroup",
    "Tag",
    "Region",
    "TagResource",
    "SnapshotPolicyId",
    "SecurityGroupId",
    "SecurityGroupReference",
    "ReferencingSecurityGroup",
    "Instance",
    "InstanceId",
    "Vpc",
    "VSwitch",
    "VSwitchId",
    "NetworkInterface",
    "IpAddress",
    "PrefixList",
    "PrefixListAssociation",
    "Entry",
    "Zone",
    "Item",
];

fn static_item_name(name: &str) -> Option<&'static str> {
    KNOWN_ITEMS.iter().copied().find(|k| *k == name)
}

fn push_leaf(name: &str, text: &str, out: &mut String) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(text);
    push_close(name, out);
}

fn push_close(name: &str, out: &mut String) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes text content for XML.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds an object node field by field.
pub struct ObjectBuilder(Vec<(String, Node)>);

impl ObjectBuilder {
    pub fn field(mut self, key: &str, value: Node) -> Self {
        self.0.push((key.to_string(), value));
        self
    }
    pub fn str(self, key: &str, value: impl Into<String>) -> Self {
        self.field(key, Node::Str(value.into()))
    }
    pub fn int(self, key: &str, value: i64) -> Self {
        self.field(key, Node::Int(value))
    }
    pub fn bool(self, key: &str, value: bool) -> Self {
        self.field(key, Node::Bool(value))
    }
    pub fn build(self) -> Node {
        Node::Object(self.0)
    }
}

/// The success body: the handler's fields plus `RequestId`, as JSON or as
/// `<{Action}Response>` XML.
pub fn success_body(format: Format, action: &str, request_id: &str, body: &Node) -> String {
    let mut fields: Vec<(String, Node)> =
        vec![("RequestId".to_string(), Node::Str(request_id.to_string()))];
    if let Node::Object(rest) = body {
        fields.extend(rest.iter().filter(|(k, _)| k != "RequestId").cloned());
    }
    let node = Node::Object(fields);
    match format {
        Format::Json => node.to_json().to_string(),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            node.write_xml(&format!("{action}Response"), &mut out);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Node {
        Node::object()
            .str("SecurityGroupId", "sg-1")
            .field(
                "Permissions",
                Node::list(
                    "Permission",
                    [Node::object()
                        .str("Priority", "1")
                        .str("Description", "a<b")
                        .build()],
                ),
            )
            .field("Tags", Node::list("Tag", []))
            .build()
    }

    #[test]
    fn json_wraps_lists_in_their_singular_name() {
        let body = success_body(Format::Json, "X", "RID", &sample());
        assert_eq!(
            body,
            r#"{"RequestId":"RID","SecurityGroupId":"sg-1","Permissions":{"Permission":[{"Priority":"1","Description":"a<b"}]},"Tags":{"Tag":[]}}"#
        );
    }

    #[test]
    fn xml_repeats_the_singular_element_and_escapes_text() {
        let body = success_body(Format::Xml, "DescribeX", "RID", &sample());
        assert_eq!(
            body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeXResponse><RequestId>RID</RequestId><SecurityGroupId>sg-1</SecurityGroupId><Permissions><Permission><Priority>1</Priority><Description>a&lt;b</Description></Permission></Permissions><Tags></Tags></DescribeXResponse>"
        );
    }

    #[test]
    fn json_round_trips_through_from_json() {
        let node = sample();
        assert_eq!(Node::from_json(&node.to_json()), node);
    }
}
