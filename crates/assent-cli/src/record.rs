//! Reads just the fields `filter` needs from a JSON record, without building the whole value: serde_json
//! skips every other member (validating it), and strings without escapes are borrowed from the line.
//! This is what keeps `assent filter` above a million records a second on one core.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A field's value as `filter` weighs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Str(Cow<'a, str>),
    /// A non-negative whole number.
    UInt(u64),
    /// Any other number, as text.
    Number(String),
    Bool(bool),
    Null,
    /// An object or an array.
    Other,
}

impl Scalar<'_> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Dotted paths (`assent.receipt`) as a tree of keys: each key is compared once per member, however
/// many paths go through it.
pub struct Paths(Vec<Node>);

struct Node {
    key: String,
    /// The slot of the path that ends here.
    slot: Option<usize>,
    children: Vec<Node>,
}

impl Paths {
    pub fn new(paths: &[&str]) -> Paths {
        let mut roots: Vec<Node> = Vec::new();
        for (slot, path) in paths.iter().enumerate() {
            let mut level = &mut roots;
            let keys: Vec<&str> = path.split('.').collect();
            for (depth, key) in keys.iter().enumerate() {
                let i = match level.iter().position(|n| n.key == *key) {
                    Some(i) => i,
                    None => {
                        level.push(Node { key: key.to_string(), slot: None, children: Vec::new() });
                        level.len() - 1
                    }
                };
                if depth + 1 == keys.len() {
                    level[i].slot.get_or_insert(slot);
                }
                level = &mut level[i].children;
            }
        }
        Paths(roots)
    }

    /// The value at each path in `line` (`None` where absent), or an error if `line` is not JSON.
    pub fn read<'a>(&self, line: &'a str, out: &mut [Option<Scalar<'a>>]) -> Result<(), serde_json::Error> {
        out.iter_mut().for_each(|slot| *slot = None);
        let mut de = serde_json::Deserializer::from_str(line);
        Find { level: &self.0, out }.deserialize(&mut de)?;
        de.end()
    }
}

struct Find<'s, 'a> {
    level: &'s [Node],
    out: &'s mut [Option<Scalar<'a>>],
}

impl<'de> DeserializeSeed<'de> for Find<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Find<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match self.level.iter().find(|n| n.key == key) {
                // A path that ends here wins over one that goes deeper through the same key.
                Some(Node { slot: Some(slot), .. }) => self.out[*slot] = Some(map.next_value::<ScalarOf<'de>>()?.0),
                Some(node) => map.next_value_seed(Find { level: &node.children, out: &mut *self.out })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    // Anything but an object holds none of the paths.
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// An object key, borrowed from the line when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor).map(Key)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

struct ScalarOf<'a>(Scalar<'a>);

impl<'de> serde::Deserialize<'de> for ScalarOf<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor).map(ScalarOf)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_string())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::UInt(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}
