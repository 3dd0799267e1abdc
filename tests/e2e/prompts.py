"""Request bodies shaped like real traffic for each tier, shared by the e2e tests."""

LABEL_PROMPT = (
    "Classify the sentiment of this review. Answer with only one word: positive or negative. "
    "Review: The battery died after two days and support never answered."
)
ANALYSIS_PROMPT = "Prove step by step that the sum of the first n odd numbers is n squared."
CHAT_TURNS = [
    {"role": "system", "content": "You are a helpful writing assistant."},
    {"role": "user", "content": "My colleague Sam invited me to give a talk at their meetup."},
    {"role": "assistant", "content": "That sounds exciting! How would you like to answer?"},
    {
        "role": "user",
        "content": "Can you help me write a friendly reply email saying yes, "
        "in a friendly tone, and asking what date works?",
    },
]
UNMATCHED_PROMPT = "hello"

CHAT_PATH = "/v1/chat/completions"


def chat(prompt, model="client-picked-model", **extra):
    """An OpenAI Chat Completions body with one user message."""
    return dict(model=model, messages=[{"role": "user", "content": prompt}], **extra)


def conversation(turns=CHAT_TURNS, model="client-picked-model"):
    return {"model": model, "messages": turns}
