//! Model profiles at request time: a decision keeps to models that serve the request's API
//! shape, and the body is adapted to the model it is sent to (the completion-cap field it
//! takes, the fields it refuses). Every change to the body is recorded as an owned edit, for
//! the log (`tier_router.edits`).

use std::ops::Range;

use crate::api::ApiShape;
use crate::body::{self, OwnedField, RequestBody, Rewrite};
use crate::config::{CapField, Config, ModelId, Profile, TierId};
use crate::decide::Decision;

/// How a request was placed when the model decided for it does not serve its API shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeFallback {
    /// `fallback_model` serves the shape and took the request.
    FallbackModel,
    /// The first model in `models` order that serves the shape took it.
    FirstCompatible,
    /// No configured model serves the shape: the body is not rewritten and no cluster is set
    /// (the request takes the route it would take without the router).
    NoneCompatible,
}

impl ShapeFallback {
    pub fn as_str(self) -> &'static str {
        match self {
            ShapeFallback::FallbackModel => "fallback_model",
            ShapeFallback::FirstCompatible => "first_compatible",
            ShapeFallback::NoneCompatible => "none",
        }
    }
}

/// One change the router made to a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedEdit {
    /// `model` set to the decided model.
    Model,
    /// `stream_options.include_usage` added.
    StreamOptions,
    /// The completion-cap field renamed for the model (`max_tokens->max_completion_tokens`).
    Renamed { from: CapField, to: CapField },
    /// A field the model refuses, removed (`drop:temperature`).
    Dropped(String),
    /// A completion-token cap raised or added by the tier's token floor.
    Floor,
    /// `"logprobs": true` added for a cascade gate's `min_mean_logprob`.
    Logprobs,
}

impl OwnedEdit {
    /// The edit as logged.
    pub fn label(&self) -> String {
        match self {
            OwnedEdit::Model => "model".to_string(),
            OwnedEdit::StreamOptions => "stream_options".to_string(),
            OwnedEdit::Renamed { from, to } => format!("{}->{}", from.name(), to.name()),
            OwnedEdit::Dropped(field) => format!("drop:{field}"),
            OwnedEdit::Floor => "floor".to_string(),
            OwnedEdit::Logprobs => "logprobs".to_string(),
        }
    }
}

impl Config {
    /// The models of `models` that serve `api`, in order.
    pub(crate) fn serving(&self, models: &[ModelId], api: Option<ApiShape>) -> Vec<ModelId> {
        models
            .iter()
            .copied()
            .filter(|m| self.speaks(*m, api))
            .collect()
    }

    /// Moves `decision` to a model that serves its API when its own model does not:
    /// `fallback_model` if it serves it, else the first such model in `models` order; with
    /// none, the decision is marked so the request is not rewritten.
    pub(crate) fn fit_shape(&self, decision: &mut Decision) {
        let api = decision.api;
        if self.speaks(decision.model, api) {
            return;
        }
        match self.shape_substitute(api) {
            Some((model, how)) => {
                decision.model = model;
                decision.shape_fallback = Some(how);
            }
            None => decision.shape_fallback = Some(ShapeFallback::NoneCompatible),
        }
    }

    /// The model that takes a request of `api` whose decided model does not serve it.
    fn shape_substitute(&self, api: Option<ApiShape>) -> Option<(ModelId, ShapeFallback)> {
        if self.speaks(self.fallback_model, api) {
            return Some((self.fallback_model, ShapeFallback::FallbackModel));
        }
        (0..self.models.len())
            .map(ModelId)
            .find(|m| self.speaks(*m, api))
            .map(|m| (m, ShapeFallback::FirstCompatible))
    }

    /// Every model a decision for `tier` (`None`: the fallback) can name: the tier's own
    /// models, and the models [`Config::fit_shape`] moves a request of each API shape to.
    /// The filter defines its per-(tier, model) metrics from this list.
    pub fn decidable_models(&self, tier: Option<TierId>) -> Vec<ModelId> {
        let mut models = match tier {
            Some(tier) => {
                let t = self.tier(tier);
                let mut models = t.models.clone();
                // `on_tier_down: fallback` sends the tier's requests to the fallback model.
                if t.on_tier_down == crate::config::TierDown::Fallback
                    && !models.contains(&self.fallback_model)
                {
                    models.push(self.fallback_model);
                }
                models
            }
            None => vec![self.fallback_model],
        };
        let substitutes = ApiShape::ALL
            .into_iter()
            .filter_map(|api| self.shape_substitute(Some(api)));
        for (model, _) in substitutes {
            if !models.contains(&model) {
                models.push(model);
            }
        }
        models
    }

    /// The edits that carry out a served decision: `model`, `stream_options`, the model's
    /// profile (cap field, dropped fields), the tier's token floor. Records them in
    /// `decision.edits`; returns the new body when it changes.
    pub(crate) fn edit_body(
        &self,
        bytes: &[u8],
        parsed: &RequestBody,
        decision: &mut Decision,
    ) -> Option<Vec<u8>> {
        if decision.shape_fallback == Some(ShapeFallback::NoneCompatible) {
            return None;
        }
        let model = self.model(decision.model);
        let mut out = Rewrite::default();
        let mut edits = Vec::new();
        if body::set_model(bytes, parsed, &model.name, &mut out) {
            edits.push(OwnedEdit::Model);
        }
        if self.request_stream_usage
            && parsed.stream
            && accepts_stream_options(decision.api)
            && body::request_stream_usage(bytes, parsed, &mut out)
        {
            edits.push(OwnedEdit::StreamOptions);
        }
        let removed = self.apply_profile(
            bytes,
            parsed,
            decision.api,
            &model.profile,
            &mut out,
            &mut edits,
        );
        if let Some(floor) = decision.tier.and_then(|t| self.tier(t).token_floor) {
            let raised = body::raise_token_floor(
                bytes,
                parsed,
                floor.min,
                floor.add_when_absent,
                cap_field(decision.api, &model.profile),
                &removed,
                &mut out,
            );
            if raised {
                decision.floor_applied = Some(floor.min);
                edits.push(OwnedEdit::Floor);
            }
        }
        if self.adds_logprobs(decision, parsed) {
            out.insert("logprobs", "true");
            edits.push(OwnedEdit::Logprobs);
        }
        decision.edits = edits;
        (!out.is_empty()).then(|| body::apply(bytes, parsed.insert_at, out))
    }

    /// The profile's edits: the Chat Completions cap renamed to the field the model takes
    /// (or dropped when the client sent both), and the fields it refuses removed. Returns the
    /// value spans of the removed members.
    fn apply_profile(
        &self,
        bytes: &[u8],
        parsed: &RequestBody,
        api: Option<ApiShape>,
        profile: &Profile,
        out: &mut Rewrite,
        edits: &mut Vec<OwnedEdit>,
    ) -> Vec<Range<usize>> {
        let mut removed = Vec::new();
        // Only Chat Completions has two names for the cap; the others have one each.
        if let (Some(ApiShape::ChatCompletions), Some(to)) = (api, profile.completion_cap) {
            let from = to.other();
            let sources: Vec<Range<usize>> = parsed.spans(cap_owned(from)).collect();
            let has_target = parsed.spans(cap_owned(to)).next().is_some();
            for span in &sources {
                if has_target {
                    out.remove(span.clone());
                    removed.push(span.clone());
                } else {
                    out.rename(bytes, span, to.name());
                }
            }
            if !sources.is_empty() {
                edits.push(if has_target {
                    OwnedEdit::Dropped(from.name().to_string())
                } else {
                    OwnedEdit::Renamed { from, to }
                });
            }
        }
        for &field in &profile.drop {
            let spans: Vec<Range<usize>> = parsed.spans(OwnedField::Dropped(field)).collect();
            if spans.is_empty() {
                continue;
            }
            for span in spans {
                out.remove(span.clone());
                removed.push(span);
            }
            let name = self.dropped_fields.get(field).cloned().unwrap_or_default();
            edits.push(OwnedEdit::Dropped(name));
        }
        removed
    }

    /// The owned edits of a decision, comma-separated, as logged.
    pub fn edit_list(&self, decision: &Decision) -> String {
        let labels: Vec<String> = decision.edits.iter().map(OwnedEdit::label).collect();
        labels.join(",")
    }
}

fn cap_owned(cap: CapField) -> OwnedField {
    match cap {
        CapField::MaxTokens => OwnedField::MaxTokens,
        CapField::MaxCompletionTokens => OwnedField::MaxCompletionTokens,
    }
}

/// OpenAI Chat Completions and Completions take `stream_options`; Responses always reports
/// usage and Anthropic rejects unknown fields, so only these get it.
fn accepts_stream_options(api: Option<ApiShape>) -> bool {
    matches!(api, Some(ApiShape::ChatCompletions | ApiShape::Completions))
}

/// The completion-token cap field a floor adds to a request without one: the one the
/// model's profile names for Chat Completions (`max_completion_tokens` by default), the
/// API's only one otherwise.
fn cap_field(api: Option<ApiShape>, profile: &Profile) -> &'static str {
    match api {
        Some(ApiShape::ChatCompletions) => profile
            .completion_cap
            .unwrap_or(CapField::MaxCompletionTokens)
            .name(),
        Some(ApiShape::Responses) => "max_output_tokens",
        _ => "max_tokens",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_field_by_api_and_profile() {
        let default = Profile::default();
        let chat = Some(ApiShape::ChatCompletions);
        assert_eq!(cap_field(chat, &default), "max_completion_tokens");
        assert_eq!(
            cap_field(Some(ApiShape::Responses), &default),
            "max_output_tokens"
        );
        assert_eq!(
            cap_field(Some(ApiShape::AnthropicMessages), &default),
            "max_tokens"
        );
        let legacy = Profile {
            completion_cap: Some(CapField::MaxTokens),
            ..Profile::default()
        };
        assert_eq!(cap_field(chat, &legacy), "max_tokens");
    }
}
