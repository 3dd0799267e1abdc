//! Text pulled out of the message shapes of the OpenAI and Anthropic APIs, borrowed from the
//! request body wherever the JSON string has no escapes (so most prompts are never copied).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// All text found in a value: a string, an array of strings or content parts, or a content
/// part (`{"type":"text","text":...}`, Anthropic `tool_result` with nested `content`).
/// Images, audio and other non-text parts are skipped without being copied.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Texts<'a>(pub Vec<Cow<'a, str>>);

impl Texts<'_> {
    pub fn char_len(&self) -> usize {
        self.0.iter().map(|t| t.len()).sum()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Texts<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut texts = Texts::default();
        deserializer.deserialize_any(TextsVisitor(&mut texts))?;
        Ok(texts)
    }
}

/// Appends into one list, so nested arrays do not allocate a list per level.
struct TextsVisitor<'t, 'a>(&'t mut Texts<'a>);

impl<'de: 'a, 'a> serde::de::DeserializeSeed<'de> for TextsVisitor<'_, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for TextsVisitor<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("text, an array of content parts, or a content part")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.0 .0.push(Cow::Borrowed(v));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0 .0.push(Cow::Owned(v.to_string()));
        Ok(())
    }
    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.0 .0.push(Cow::Owned(v));
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(TextsVisitor(&mut *self.0))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<PartKey>()? {
            match key {
                PartKey::Text | PartKey::Content => {
                    map.next_value_seed(TextsVisitor(&mut *self.0))?
                }
                PartKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
    // Numbers, booleans and null carry no prompt text.
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
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum PartKey {
    Text,
    Content,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    System,
    User,
    Assistant,
    /// Tool results, function calls and roles this router does not know.
    #[default]
    Other,
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RoleVisitor)
    }
}

/// Reads the role without allocating it.
struct RoleVisitor;

impl<'de> Visitor<'de> for RoleVisitor {
    type Value = Role;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a role name")
    }
    fn visit_str<E>(self, name: &str) -> Result<Role, E> {
        Ok(match name {
            "system" | "developer" => Role::System,
            "user" => Role::User,
            "assistant" | "model" => Role::Assistant,
            _ => Role::Other,
        })
    }
    fn visit_unit<E>(self) -> Result<Role, E> {
        Ok(Role::Other)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Role, E> {
        Ok(Role::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Role, E> {
        Ok(Role::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Role, E> {
        Ok(Role::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Role, E> {
        Ok(Role::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Role, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Role::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Role, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Role::Other)
    }
}

/// One message of Chat Completions / Anthropic `messages`, or one item of Responses `input`.
#[derive(Debug, Default, Deserialize)]
pub struct Message<'a> {
    #[serde(default)]
    pub role: Role,
    #[serde(borrow, default)]
    pub content: Texts<'a>,
}

/// Responses `input` and Completions `prompt`: plain text, or a list of items/strings.
#[derive(Debug, Default)]
pub struct Input<'a> {
    pub messages: Vec<Message<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Input<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(InputVisitor(PhantomData))
    }
}

struct InputVisitor<'a>(PhantomData<Input<'a>>);

impl<'de: 'a, 'a> Visitor<'de> for InputVisitor<'a> {
    type Value = Input<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or an array of strings or messages")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Input<'a>, E> {
        Ok(Input::user(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Input<'a>, E> {
        Ok(Input::user(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Input<'a>, E> {
        Ok(Input::user(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Input<'a>, A::Error> {
        let mut input = Input::default();
        while let Some(item) = seq.next_element::<InputItem<'a>>()? {
            input.messages.push(item.0);
        }
        Ok(input)
    }
    // Token-id prompts (`[[1, 2, 3]]`, `[1, 2]`) have no text to classify.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Input<'a>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Input::default())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Self::Value::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Self::Value::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Self::Value::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Self::Value::default())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Self::Value::default())
    }
}

impl<'a> Input<'a> {
    fn user(text: Cow<'a, str>) -> Self {
        Input {
            messages: vec![Message {
                role: Role::User,
                content: Texts(vec![text]),
            }],
        }
    }
}

/// An element of `input`/`prompt`: a string is a user message, an object is a message item.
struct InputItem<'a>(Message<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for InputItem<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(InputItemVisitor(PhantomData))
    }
}

struct InputItemVisitor<'a>(PhantomData<InputItem<'a>>);

impl<'de: 'a, 'a> Visitor<'de> for InputItemVisitor<'a> {
    type Value = InputItem<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a message object")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(InputItem(Message {
            role: Role::User,
            content: Texts(vec![Cow::Borrowed(v)]),
        }))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(InputItem(Message {
            role: Role::User,
            content: Texts(vec![Cow::Owned(v.to_string())]),
        }))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let message = Message::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(InputItem(message))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(InputItem(Message::default()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(InputItem(Message::default()))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(InputItem(Message::default()))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(InputItem(Message::default()))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(InputItem(Message::default()))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(InputItem(Message::default()))
    }
}
