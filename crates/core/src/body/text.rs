//! Text pulled out of the message shapes of the OpenAI and Anthropic APIs as the parser meets
//! it. Nothing is collected per message or part: each string goes straight to a [`Sink`]
//! (which keeps the bytes the classifier scans) and each finished message to the parser's
//! [`Conversation`], which keeps only the last candidate message.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::windows::{MessageText, SystemText, Windows};

/// Where the strings of a text value go.
pub(crate) trait Sink {
    fn text(&mut self, part: &str);
}

impl Sink for MessageText {
    fn text(&mut self, part: &str) {
        self.push(part.as_bytes());
    }
}

/// A system prompt's text also counts toward the prompt's length.
pub(crate) struct SystemSink<'s> {
    pub(crate) system: &'s mut SystemText,
    pub(crate) prompt_bytes: &'s mut usize,
}

impl Sink for SystemSink<'_> {
    fn text(&mut self, part: &str) {
        *self.prompt_bytes += part.len();
        self.system.push(part.as_bytes());
    }
}

/// All text in a value: a string, an array of strings or content parts, or a content part
/// (`{"type":"text","text":...}`, Anthropic `tool_result` with nested `content`). Images,
/// audio and other non-text parts are skipped without being copied.
pub(crate) struct Texts<'s, S>(pub(crate) &'s mut S);

impl<'de, S: Sink> DeserializeSeed<'de> for Texts<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for Texts<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("text, an array of content parts, or a content part")
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.text(v);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Texts(&mut *self.0))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<PartKey>()? {
            match key {
                PartKey::Text | PartKey::Content => map.next_value_seed(Texts(&mut *self.0))?,
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

/// What the classifier and the accounting need of the conversation: the system prompt's
/// head, the windows of the last message that is not the assistant's, the number of turns and
/// the prompt's length. One message is read at a time, into buffers that are reused.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    pub(crate) system: SystemText,
    /// Windows of the last message whose role is not `assistant`.
    pub(crate) last_user: Option<Windows>,
    /// User and assistant messages.
    pub(crate) turns: usize,
    /// Bytes of all prompt text, system included.
    pub(crate) prompt_bytes: usize,
    current: MessageText,
}

impl Conversation {
    pub(crate) fn new(scan_bytes: usize) -> Self {
        Conversation {
            system: SystemText {
                windows: Windows::default(),
                budget: scan_bytes,
            },
            current: MessageText::new(scan_bytes),
            ..Conversation::default()
        }
    }

    pub(crate) fn system_sink(&mut self) -> SystemSink<'_> {
        SystemSink {
            system: &mut self.system,
            prompt_bytes: &mut self.prompt_bytes,
        }
    }

    /// A message whose whole content is one string (`"prompt": "..."`, an `input` string).
    fn text_message(&mut self, role: Role, text: &str) {
        self.current.clear();
        self.current.push(text.as_bytes());
        self.end_message(role, false);
    }

    /// Ends the message in `current`. In Chat and Anthropic `messages` (`split_system`), a
    /// system or developer message is system prompt text.
    fn end_message(&mut self, role: Role, split_system: bool) {
        self.prompt_bytes += self.current.len();
        if split_system && role == Role::System {
            let budget = self.system.budget;
            self.current.head_into(&mut self.system.windows, budget);
            return;
        }
        if matches!(role, Role::User | Role::Assistant) {
            self.turns += 1;
        }
        if role != Role::Assistant {
            self.current
                .windows_into(self.last_user.get_or_insert_with(Windows::default));
        }
    }
}

/// Chat/Anthropic `messages`, Responses `input`, Completions `prompt`: plain text, or a list
/// of items or strings.
pub(crate) struct Input<'c> {
    pub(crate) conversation: &'c mut Conversation,
    pub(crate) split_system: bool,
}

impl<'de> DeserializeSeed<'de> for Input<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Input<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or an array of strings or messages")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.conversation.text_message(Role::User, v);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let split_system = self.split_system;
        while seq
            .next_element_seed(Item {
                conversation: &mut *self.conversation,
                split_system,
            })?
            .is_some()
        {}
        Ok(())
    }
    // Token-id prompts (`[[1, 2, 3]]`, `[1, 2]`) have no text to classify.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// An element of `messages`/`input`/`prompt`: a string is a user message, an object a message
/// item (`role`, `content`); anything else a message without text.
struct Item<'c> {
    conversation: &'c mut Conversation,
    split_system: bool,
}

impl<'de> DeserializeSeed<'de> for Item<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Item<'_> {
    fn empty(self) {
        self.conversation.current.clear();
        self.conversation
            .end_message(Role::Other, self.split_system);
    }
}

impl<'de> Visitor<'de> for Item<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a message object")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.conversation.text_message(Role::User, v);
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let conversation = self.conversation;
        conversation.current.clear();
        let (mut role, mut content) = (None, false);
        while let Some(key) = map.next_key::<MessageKey>()? {
            match key {
                MessageKey::Role if role.is_some() => {
                    return Err(A::Error::duplicate_field("role"))
                }
                MessageKey::Role => role = Some(map.next_value::<Role>()?),
                MessageKey::Content if content => return Err(A::Error::duplicate_field("content")),
                MessageKey::Content => {
                    content = true;
                    map.next_value_seed(Texts(&mut conversation.current))?;
                }
                MessageKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        conversation.end_message(role.unwrap_or_default(), self.split_system);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.empty();
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.empty();
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.empty();
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.empty();
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.empty();
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.empty();
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum MessageKey {
    Role,
    Content,
    #[serde(other)]
    Other,
}
