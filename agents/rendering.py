"""Model output as HTML: markdown rendered, then sanitized (the model's text is untrusted),
and tool-call cards."""

import json
from typing import Any

import markdown
import nh3
from django.template.loader import render_to_string

# What markdown produces for prose, code and tables. No images: a model-written <img> could
# make every reader's browser call an address of the model's (or a prompt injector's) choice.
ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "code": {"class"}, "th": {"align"},
                      "td": {"align"}}


def markdown_html(text: str) -> str:
    html = markdown.markdown(text, extensions=["fenced_code", "tables", "sane_lists"])
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def tool_card_html(*, call_id: str, name: str, arguments: Any, finished: bool,
                   result: str = "", error: str | None = None, duration_ms: float = 0) -> str:
    """A tool call's card, the same live (from the socket) and on reload (from the database).

    `arguments` is the model's raw JSON text, or the parsed value stored for it."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            pass  # malformed: shown as the model wrote it
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False, indent=1)
    call = {"call_id": call_id, "name": name, "arguments": arguments, "finished": finished,
            "result": result, "error": error or None, "duration_ms": round(duration_ms)}
    return render_to_string("agents/conversation.html#tool-card", {"call": call})
