//! What a parameter type expects, in words ("an integer (i64)", "a string
//! or nil"), found by asking its `Deserialize` impl which method it calls:
//! only on the error path, so it costs nothing when the arguments are fine.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Expected, Visitor};

/// What `T` expects, and whether that is a table (so `{}` may be read as one).
pub struct Wanted {
    pub text: String,
    pub table: bool,
}

pub fn wanted<'de, T: Deserialize<'de>>() -> Wanted {
    let mut probe = Probe::default();
    let _ = T::deserialize(&mut probe);
    Wanted { text: probe.text.unwrap_or_else(|| "any value".into()), table: probe.table }
}

#[derive(Default)]
struct Probe {
    text: Option<String>,
    table: bool,
    depth: u8,
}

/// Ends the probe: the first method called said it all.
#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("probe")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl Probe {
    /// Records what is expected (inside an `Option`, before " or nil").
    fn say(&mut self, text: &str) -> Stop {
        let text = text.to_string();
        self.text = Some(match self.text.take() {
            Some(outer) => format!("{text}{outer}"),
            None => text,
        });
        Stop
    }
}

macro_rules! say {
    ($($method:ident => $text:literal),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(self.say($text))
        })*
    };
}

impl<'de> Deserializer<'de> for &mut Probe {
    type Error = Stop;

    say! {
        deserialize_bool => "a boolean",
        deserialize_i8 => "an integer (i8)",
        deserialize_i16 => "an integer (i16)",
        deserialize_i32 => "an integer (i32)",
        deserialize_i64 => "an integer (i64)",
        deserialize_u8 => "an integer (u8)",
        deserialize_u16 => "an integer (u16)",
        deserialize_u32 => "an integer (u32)",
        deserialize_u64 => "an integer (u64)",
        deserialize_f32 => "a number",
        deserialize_f64 => "a number",
        deserialize_char => "a string",
        deserialize_str => "a string",
        deserialize_string => "a string",
        deserialize_bytes => "a string",
        deserialize_byte_buf => "a string",
        deserialize_unit => "nil",
        deserialize_seq => "an array",
        deserialize_identifier => "a string",
        deserialize_ignored_any => "any value",
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        // Handles and dynamic values: the visitor says what it wants.
        let text = Expecting(&visitor).to_string();
        Err(self.say(&text))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        if self.depth > 4 {
            return Err(self.say("any value"));
        }
        self.depth += 1;
        self.text = Some(format!(" or nil{}", self.text.take().unwrap_or_default()));
        visitor.visit_some(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, _: V) -> Result<V::Value, Stop> {
        Err(self.say("nil"))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Stop> {
        if self.depth > 4 {
            return Err(self.say("any value"));
        }
        self.depth += 1;
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Stop> {
        Err(self.say("an array"))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, _: V) -> Result<V::Value, Stop> {
        Err(self.say("an array"))
    }

    fn deserialize_map<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        self.table = true;
        Err(self.say("a table"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        self.table = true;
        Err(self.say("a table"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        Err(self.say(&format!("one of \"{}\"", variants.join("\", \""))))
    }
}

/// A visitor's `expecting` as text.
struct Expecting<'a, V>(&'a V);

impl<'de, V: Visitor<'de>> fmt::Display for Expecting<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0 as &dyn Expected).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_in_words() {
        assert_eq!(wanted::<i64>().text, "an integer (i64)");
        assert_eq!(wanted::<Option<String>>().text, "a string or nil");
        assert_eq!(wanted::<&str>().text, "a string");
        assert_eq!(wanted::<Vec<u8>>().text, "an array");
        assert_eq!(wanted::<crate::Buffer>().text, "a buffer");
        assert!(wanted::<crate::Dict>().table);
        assert_eq!(wanted::<Option<crate::Dict>>().text, "a table or nil");
        assert_eq!(wanted::<f64>().text, "a number");
    }
}
