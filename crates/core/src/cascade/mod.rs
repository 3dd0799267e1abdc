//! The cascade policy (`"policy": "cascade"`): send a request to the tier's first model,
//! check its non-streaming answer with a confidence gate, and move to the next model when the
//! gate fails, at most `max_escalations` times. The gate's verdict ([`Gate::check`]) and the
//! next step ([`Config::cascade_step`]) are pure; the filter only carries out the calls.

mod answer;
mod contract;
mod gate;
mod logprobs;
mod record;
mod step;

pub use answer::Answer;
pub use contract::AnswerContract;
pub use gate::{normalise_label, Gate, Verdict, DEFAULT_REFUSAL_PHRASES};
pub use logprobs::strip_logprobs;
pub use record::Attempt;
pub use step::{Mode, Step};

/// Why an answer was escalated; the `reason` label of `tier_router_escalations_total` and the
/// values of `tier_router.escalation_reasons`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Cut at the completion-token cap.
    Length,
    /// No text and no tool call.
    Empty,
    /// The API's refusal field, or a configured refusal/uncertainty phrase.
    Refusal,
    /// JSON was asked for and the answer does not parse.
    InvalidJson,
    /// The answer (or a top-level property) is not one of the schema's `enum` values.
    EnumMiss,
    /// A key of the schema's top-level `required` is missing.
    RequiredMissing,
    /// A plain-text answer is not one of the tier's `labels`.
    LabelMiss,
    /// The mean token logprob is under `min_mean_logprob`.
    LowLogprob,
    /// A 2xx body that is not an answer of the request's API shape.
    Unreadable,
    /// The model answered with a non-2xx status (or Envoy answered for it).
    UpstreamError,
}

impl Reason {
    pub const ALL: [Reason; 10] = [
        Reason::Length,
        Reason::Empty,
        Reason::Refusal,
        Reason::InvalidJson,
        Reason::EnumMiss,
        Reason::RequiredMissing,
        Reason::LabelMiss,
        Reason::LowLogprob,
        Reason::Unreadable,
        Reason::UpstreamError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Length => "length",
            Reason::Empty => "empty",
            Reason::Refusal => "refusal",
            Reason::InvalidJson => "invalid_json",
            Reason::EnumMiss => "enum_miss",
            Reason::RequiredMissing => "required_missing",
            Reason::LabelMiss => "label_miss",
            Reason::LowLogprob => "low_logprob",
            Reason::Unreadable => "unreadable",
            Reason::UpstreamError => "upstream_error",
        }
    }
}
