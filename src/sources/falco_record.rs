//! The shape of one Falco JSON record, deserialized without building a JSON tree: strings are
//! borrowed from the line when they carry no escapes, and `output_fields` stays a flat list.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

#[derive(Deserialize, Default)]
pub struct FalcoLine<'a> {
    #[serde(borrow, default)]
    pub time: Option<Field<'a>>,
    #[serde(borrow, default, rename = "@timestamp")]
    pub at_timestamp: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub rule: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub priority: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub output: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub hostname: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub source: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub tags: Option<Field<'a>>,
    #[serde(borrow, default)]
    pub output_fields: Option<Fields<'a>>,
}

/// A JSON value as Falco fields need it: text and numbers kept, anything nested only counted.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    /// An array of scalars (Falco `tags`, `k8s.pod.labels`).
    List(Vec<Field<'a>>),
    /// An object: not a Falco field shape; ignored.
    Other,
}

impl Field<'_> {
    /// The field as text; `None` for null, objects and Falco's `<NA>` placeholder.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Field::Str(s) if s.is_empty() || s == "<NA>" => None,
            Field::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            Field::Int(i) => Some(Cow::Owned(i.to_string())),
            Field::Float(f) => Some(Cow::Owned(f.to_string())),
            Field::Bool(b) => Some(Cow::Owned(b.to_string())),
            _ => None,
        }
    }

    /// A text field as it is in the record, without conversion; `None` for anything but a
    /// non-empty string (and Falco's `<NA>`).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Field::Str(s) if !s.is_empty() && s != "<NA>" => Some(s),
            _ => None,
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Field::Int(i) => Some(*i),
            Field::Float(f) if f.is_finite() => Some(*f as i64),
            Field::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Field::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(i64::try_from(v).map_or(Field::Float(v as f64), Field::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Field::Float(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Field::Bool(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Field::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Field::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
                while let Some(item) = seq.next_element::<Field<'de>>()? {
                    items.push(item);
                }
                Ok(Field::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// `output_fields` as a flat list of `(name, value)` in the record's order.
#[derive(Debug, Default)]
pub struct Fields<'a>(pub Vec<(Cow<'a, str>, Field<'a>)>);

impl<'a> Fields<'a> {
    pub fn get(&self, name: &str) -> Option<&Field<'a>> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of Falco fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // Falco records carry a dozen to a few dozen fields: one allocation, not five.
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(32).min(64));
                // Keys go through `Field` so that they borrow from the line like values do
                // (serde's own `Cow<str>` always allocates).
                while let Some(k) = map.next_key::<Field<'de>>()? {
                    let v = map.next_value::<Field<'de>>()?;
                    if let Field::Str(k) = k {
                        out.push((k, v));
                    }
                }
                Ok(Fields(out))
            }
            // Some plugins send `output_fields: null`.
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Fields::default())
            }
        }
        d.deserialize_any(V)
    }
}
