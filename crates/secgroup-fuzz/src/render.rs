//! `render`: the JSON and XML renderers of [`secgroup_rpc::render`] and the error envelope.
//!
//! Input: a little program that builds a [`Node`] tree (each byte picks what comes next;
//! strings are the bytes up to the next `\0`, read as lossy UTF-8).
//!
//! Properties: the JSON always parses (serde_json) and every string reads back as itself;
//! the XML always parses (roxmltree) and every string reads back as itself once the
//! characters XML 1.0 forbids are replaced by U+FFFD; the error envelope in both formats
//! parses and carries its five fields.

use secgroup_rpc::error::error_body;
use secgroup_rpc::render::{forbidden_in_xml, success_body, Format, Node};
use secgroup_rpc::RpcError;

/// Field and item names the tree may use (the renderers take the API's own names).
const NAMES: [&str; 8] = [
    "Description",
    "SecurityGroupId",
    "Permissions",
    "Permission",
    "Tags",
    "Tag",
    "TotalCount",
    "Value",
];

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.at)?;
        self.at += 1;
        Some(b)
    }
    fn string(&mut self) -> String {
        let rest = &self.data[self.at.min(self.data.len())..];
        let len = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        self.at += len + 1;
        String::from_utf8_lossy(&rest[..len]).into_owned()
    }
    fn int(&mut self) -> i64 {
        let mut bytes = [0u8; 8];
        for b in &mut bytes {
            *b = self.byte().unwrap_or(0);
        }
        i64::from_le_bytes(bytes)
    }
    fn node(&mut self, depth: usize) -> Node {
        let op = self.byte().unwrap_or(0);
        match op % 6 {
            0 | 5 => Node::Str(self.string()),
            1 => Node::Int(self.int()),
            2 => Node::Bool(op & 0x80 != 0),
            3 if depth < 6 => {
                let n = usize::from(self.byte().unwrap_or(0) % 5);
                // Distinct names: an object's fields never repeat in real responses.
                let start = usize::from(op >> 3);
                Node::Object(
                    (0..n)
                        .map(|i| (NAMES[(start + i) % NAMES.len()], self.node(depth + 1)))
                        .collect(),
                )
            }
            4 if depth < 6 => {
                let n = usize::from(self.byte().unwrap_or(0) % 5);
                let item = NAMES[usize::from(op >> 3) % NAMES.len()];
                Node::list(
                    item,
                    (0..n).map(|_| self.node(depth + 1)).collect::<Vec<_>>(),
                )
            }
            _ => Node::Static("constant"),
        }
    }
}

pub fn fuzz(data: &[u8]) {
    let mut reader = Reader { data, at: 0 };
    let fields: Vec<(&'static str, Node)> =
        (0..4).map(|i| (NAMES[i * 2], reader.node(0))).collect();
    let body = Node::Object(fields);
    let request_id = reader.string();

    let json = success_body(Format::Json, "DescribeX", &request_id, &body);
    let value: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("JSON does not parse ({e}): {json}"));
    assert_eq!(value["RequestId"], request_id.as_str());
    if let Node::Object(fields) = &body {
        for (name, node) in fields {
            json_matches(node, &value[name], name);
        }
    }

    let xml = success_body(Format::Xml, "DescribeX", &request_id, &body);
    let doc = roxmltree::Document::parse(&xml)
        .unwrap_or_else(|e| panic!("XML does not parse ({e}): {xml:?}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "DescribeXResponse");
    let mut children = root.children().filter(roxmltree::Node::is_element);
    let id = children.next().expect("RequestId first");
    assert_eq!(text_of(id), xml_expected(&request_id));
    if let Node::Object(fields) = &body {
        for (name, node) in fields {
            let element = children.next().expect("one element per field");
            xml_matches(node, element, name);
        }
    }
    assert!(children.next().is_none());

    // The error envelope, with the fuzzed text where a client's input can reach it.
    let message = reader.string();
    let host = reader.string();
    let err = RpcError::new(400, "InvalidParameter", message.clone());
    let json = error_body(Format::Json, &err, &request_id, &host, "Ecs");
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON envelope parses");
    assert_eq!(value["Message"], message.as_str());
    assert_eq!(value["HostId"], host.as_str());
    assert!(value["Recommend"].is_string() && value["Code"] == "InvalidParameter");
    let xml = error_body(Format::Xml, &err, &request_id, &host, "Ecs");
    let doc = roxmltree::Document::parse(&xml)
        .unwrap_or_else(|e| panic!("XML envelope does not parse ({e}): {xml:?}"));
    let names: Vec<&str> = doc
        .root_element()
        .children()
        .filter(roxmltree::Node::is_element)
        .map(|n| n.tag_name().name())
        .collect();
    assert_eq!(
        names,
        ["RequestId", "HostId", "Code", "Message", "Recommend"]
    );
    let message_element = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("Message"))
        .expect("Message");
    assert_eq!(text_of(message_element), xml_expected(&message));
}

/// What XML text reads back as: the stored text with forbidden characters replaced.
fn xml_expected(s: &str) -> String {
    s.chars()
        .map(|c| if forbidden_in_xml(c) { '\u{FFFD}' } else { c })
        .collect()
}

fn text_of(element: roxmltree::Node<'_, '_>) -> String {
    element.children().filter_map(|n| n.text()).collect()
}

fn json_matches(node: &Node, value: &serde_json::Value, at: &str) {
    match node {
        Node::Str(s) => assert_eq!(value.as_str(), Some(s.as_str()), "{at}"),
        Node::Static(s) => assert_eq!(value.as_str(), Some(*s), "{at}"),
        Node::Int(i) => assert_eq!(value.as_i64(), Some(*i), "{at}"),
        Node::Bool(b) => assert_eq!(value.as_bool(), Some(*b), "{at}"),
        Node::Float(f) => assert_eq!(value.as_f64(), Some(*f), "{at}"),
        Node::Json(json) => assert_eq!(value, json, "{at}"),
        Node::Object(fields) => {
            let object = value.as_object().unwrap_or_else(|| panic!("{at}: object"));
            assert_eq!(object.len(), fields.len(), "{at}");
            for ((name, node), (key, value)) in fields.iter().zip(object) {
                assert_eq!(name, key, "{at}: field order");
                json_matches(node, value, name);
            }
        }
        Node::List { item, items } => {
            let array = value[item]
                .as_array()
                .unwrap_or_else(|| panic!("{at}: {{{item}: [..]}}"));
            assert_eq!(array.len(), items.len(), "{at}");
            for (node, value) in items.iter().zip(array) {
                json_matches(node, value, item);
            }
        }
    }
}

fn xml_matches(node: &Node, element: roxmltree::Node<'_, '_>, name: &str) {
    assert_eq!(element.tag_name().name(), name);
    let children: Vec<_> = element
        .children()
        .filter(roxmltree::Node::is_element)
        .collect();
    match node {
        Node::Str(s) => assert_eq!(text_of(element), xml_expected(s), "{name}"),
        Node::Static(s) => assert_eq!(text_of(element), *s, "{name}"),
        Node::Int(i) => assert_eq!(text_of(element), i.to_string(), "{name}"),
        Node::Bool(b) => assert_eq!(text_of(element), b.to_string(), "{name}"),
        Node::Float(f) => assert_eq!(text_of(element).parse::<f64>().ok(), Some(*f), "{name}"),
        // Documents whose keys are data (the generator makes none): present is enough.
        Node::Json(_) => {}
        Node::Object(fields) => {
            assert_eq!(children.len(), fields.len(), "{name}");
            for ((field, node), child) in fields.iter().zip(children) {
                xml_matches(node, child, field);
            }
        }
        Node::List { item, items } => {
            assert_eq!(children.len(), items.len(), "{name}");
            for (node, child) in items.iter().zip(children) {
                xml_matches(node, child, item);
            }
        }
    }
}
