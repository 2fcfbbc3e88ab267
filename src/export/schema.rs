//! The Arrow schema of a format plugin's records, derived from the records themselves:
//! every record is folded into one [`Shape`] (objects become structs, arrays lists,
//! with the union of the fields seen), which becomes the Parquet files' schema. Nested
//! records stay nested (`conversations: list<struct<from, value>>`), never JSON text.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema};
use serde_json::Value;

/// The type of a value seen in the records, merged over all of them.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Only `null` (or nothing) seen yet.
    Null,
    Bool,
    Int,
    Float,
    Str,
    List(Box<Shape>),
    /// Fields in the order first seen.
    Struct(Vec<(String, Shape)>),
}

/// Two records that disagree on a field's type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the format's records give the field `{path}` two types ({first} and {second}): a Parquet column has one type; use --output-type jsonl, or a format whose records agree"
)]
pub struct ShapeConflict {
    pub path: String,
    pub first: &'static str,
    pub second: &'static str,
}

/// A record that is not a JSON object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the format's records are {found}, not JSON objects: Parquet needs one column per field; use --output-type jsonl"
)]
pub struct NotAnObject {
    pub found: &'static str,
}

impl Shape {
    /// The shape of one value; `path` names it in messages.
    pub fn of(value: &Value, path: &str) -> Result<Shape, ShapeConflict> {
        Ok(match value {
            Value::Null => Shape::Null,
            Value::Bool(_) => Shape::Bool,
            Value::Number(n) if n.is_i64() => Shape::Int,
            Value::Number(_) => Shape::Float,
            Value::String(_) => Shape::Str,
            Value::Array(items) => {
                let path = format!("{path}[]");
                let mut shape = Shape::Null;
                for item in items {
                    shape = shape.merged(&Shape::of(item, &path)?, &path)?;
                }
                Shape::List(Box::new(shape))
            }
            Value::Object(fields) => Shape::Struct(
                fields
                    .iter()
                    .map(|(name, value)| Ok((name.clone(), Shape::of(value, &join(path, name))?)))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Shape::Null => "null",
            Shape::Bool => "a boolean",
            Shape::Int => "an integer",
            Shape::Float => "a number",
            Shape::Str => "a string",
            Shape::List(_) => "a list",
            Shape::Struct(_) => "an object",
        }
    }

    /// This shape and `other` merged; `path` names the field in messages.
    pub fn merged(self, other: &Shape, path: &str) -> Result<Shape, ShapeConflict> {
        Ok(match (self, other) {
            (Shape::Null, other) => other.clone(),
            (shape, Shape::Null) => shape,
            (Shape::Int, Shape::Float) | (Shape::Float, Shape::Int) => Shape::Float,
            (Shape::List(items), Shape::List(other_items)) => {
                Shape::List(Box::new(items.merged(other_items, &format!("{path}[]"))?))
            }
            (Shape::Struct(mut fields), Shape::Struct(other_fields)) => {
                for (name, shape) in other_fields {
                    let field_path = join(path, name);
                    match fields.iter_mut().find(|(known, _)| known == name) {
                        Some((_, known)) => {
                            *known =
                                std::mem::replace(known, Shape::Null).merged(shape, &field_path)?;
                        }
                        None => fields.push((name.clone(), shape.clone())),
                    }
                }
                Shape::Struct(fields)
            }
            (shape, other) if shape == *other => shape,
            (shape, other) => {
                return Err(ShapeConflict {
                    path: if path.is_empty() {
                        "(record)".into()
                    } else {
                        path.into()
                    },
                    first: shape.name(),
                    second: other.name(),
                });
            }
        })
    }

    /// Folds the record `value` into this shape.
    pub fn add(&mut self, value: &Value) -> Result<(), ShapeConflict> {
        let merged = std::mem::replace(self, Shape::Null).merged(&Shape::of(value, "")?, "")?;
        *self = merged;
        Ok(())
    }

    /// The Arrow type of this shape. A field only ever null is a nullable string, so
    /// that readers get a usable column.
    pub fn data_type(&self) -> DataType {
        match self {
            Shape::Null | Shape::Str => DataType::Utf8,
            Shape::Bool => DataType::Boolean,
            Shape::Int => DataType::Int64,
            Shape::Float => DataType::Float64,
            Shape::List(items) => {
                DataType::List(Arc::new(Field::new("item", items.data_type(), true)))
            }
            Shape::Struct(fields) => DataType::Struct(struct_fields(fields)),
        }
    }

    /// The schema of records of this shape.
    pub fn schema(&self) -> Result<Schema, NotAnObject> {
        match self {
            Shape::Struct(fields) => Ok(Schema::new(struct_fields(fields))),
            Shape::Null => Ok(Schema::empty()),
            other => Err(NotAnObject {
                found: match other {
                    Shape::List(_) => "lists",
                    Shape::Str => "strings",
                    Shape::Bool => "booleans",
                    _ => "numbers",
                },
            }),
        }
    }
}

/// The path of the field `name` inside `path`.
fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn struct_fields(fields: &[(String, Shape)]) -> Fields {
    fields
        .iter()
        .map(|(name, shape)| Field::new(name, shape.data_type(), true))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_records_give_nested_arrow_types() {
        let mut shape = Shape::Null;
        shape
            .add(&json!({"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}))
            .unwrap();
        shape
            .add(
                &json!({"conversations": [{"from": "system", "value": "S", "weight": 1}], "id": 3}),
            )
            .unwrap();
        let schema = shape.schema().unwrap();
        assert_eq!(
            schema.field(0).data_type(),
            &DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(Fields::from(vec![
                    Field::new("from", DataType::Utf8, true),
                    Field::new("value", DataType::Utf8, true),
                    Field::new("weight", DataType::Int64, true),
                ])),
                true
            )))
        );
        assert_eq!(schema.field(1).data_type(), &DataType::Int64);
    }

    #[test]
    fn conflicting_types_name_the_field() {
        let mut shape = Shape::Null;
        shape.add(&json!({"messages": [{"content": "x"}]})).unwrap();
        let error = shape
            .add(&json!({"messages": [{"content": 1}]}))
            .unwrap_err();
        assert_eq!(error.path, "messages[].content");
        let within = Shape::of(&json!({"turns": [1, "x"]}), "").unwrap_err();
        assert_eq!(within.path, "turns[]");
        assert!(
            error.to_string().contains("a string and an integer"),
            "{error}"
        );
        let mut numbers = Shape::Null;
        numbers.add(&json!({"n": 1})).unwrap();
        numbers.add(&json!({"n": 1.5})).unwrap();
        assert_eq!(
            numbers.schema().unwrap().field(0).data_type(),
            &DataType::Float64
        );
        let mut text = Shape::Null;
        text.add(&json!("plain")).unwrap();
        assert!(text.schema().unwrap_err().to_string().contains("strings"));
    }
}
