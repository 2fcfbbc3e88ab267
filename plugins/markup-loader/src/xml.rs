//! A small element tree over quick-xml, enough to walk office documents.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// A node: an element or a run of text.
pub enum Node {
    Element(Element),
    Text(String),
}

/// An element, its names without namespace prefixes.
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Node>,
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, local)| local)
}

impl Element {
    /// The value of the attribute `name` (without prefix).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            Node::Text(_) => None,
        })
    }

    /// The first child element called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|element| element.name == name)
    }

    /// The first element called `name` among the descendants, depth first.
    pub fn find(&self, name: &str) -> Option<&Element> {
        for element in self.elements() {
            if element.name == name {
                return Some(element);
            }
            if let Some(found) = element.find(name) {
                return Some(found);
            }
        }
        None
    }

    /// All the text below the element.
    pub fn text(&self) -> String {
        let mut text = String::new();
        self.collect_text(&mut text);
        text
    }

    fn collect_text(&self, text: &mut String) {
        for node in &self.children {
            match node {
                Node::Text(run) => text.push_str(run),
                Node::Element(element) => element.collect_text(text),
            }
        }
    }
}

/// Parses an XML document into its root element.
pub fn parse(source: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(source);
    let mut stack = vec![Element {
        name: String::new(),
        attributes: Vec::new(),
        children: Vec::new(),
    }];
    let start = |e: &quick_xml::events::BytesStart| Element {
        name: local(e.name().as_ref()).to_string(),
        attributes: e
            .attributes()
            .flatten()
            .map(|attribute| {
                (
                    local(attribute.key.as_ref()).to_string(),
                    attribute
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(|value| value.into_owned())
                        .unwrap_or_default(),
                )
            })
            .collect(),
        children: Vec::new(),
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("bad XML at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(e) => stack.push(start(&e)),
            Event::Empty(e) => {
                let element = start(&e);
                push(&mut stack, Node::Element(element));
            }
            Event::End(_) if stack.len() > 1 => {
                let element = stack.pop().expect("checked");
                push(&mut stack, Node::Element(element));
            }
            Event::Text(e) => push(&mut stack, Node::Text(e.xml10_content().into_owned())),
            Event::CData(e) => push(&mut stack, Node::Text(e.xml10_content().into_owned())),
            Event::GeneralRef(e) => {
                let text = match &*e {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => e.resolve_char_ref().ok().flatten(),
                };
                if let Some(c) = text {
                    push(&mut stack, Node::Text(c.to_string()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    while stack.len() > 1 {
        let element = stack.pop().expect("checked");
        push(&mut stack, Node::Element(element));
    }
    let mut document = stack.pop().expect("the document node");
    document
        .children
        .retain(|node| matches!(node, Node::Element(_)));
    match document.children.pop() {
        Some(Node::Element(root)) => Ok(root),
        _ => Err("no XML element".into()),
    }
}

fn push(stack: &mut [Element], node: Node) {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(node);
    }
}
