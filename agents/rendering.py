"""Model output as HTML: markdown rendered, then sanitized (the model's text is untrusted)."""

import markdown
import nh3

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
