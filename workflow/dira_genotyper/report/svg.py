"""A small SVG element tree: every attribute value and every piece of text is escaped when it is written.

Floats are SVG coordinates and are written with one decimal (``coord``); ints and strings are written as
they are. An attribute whose value is None is left out. Keyword names map to attribute names with ``_``
replaced by ``-`` (``font_size`` -> ``font-size``), so ``viewBox`` is written as it is spelled.
"""

from __future__ import annotations

from markupsafe import escape


def coord(x: float) -> str:
    """SVG coordinate: one decimal, no negative zero."""
    text = f"{x:.1f}"
    return "0.0" if text == "-0.0" else text


def _attr_value(value: object) -> str:
    if isinstance(value, bool):
        raise TypeError("SVG attribute values are numbers or strings, not booleans")
    return coord(value) if isinstance(value, float) else str(value)


class Element:
    """One SVG element. Positional arguments are its content: text (escaped) or child elements, in order.

    Its ``__html__`` makes Jinja2 insert it as markup, without escaping it a second time.
    """

    __slots__ = ("tag", "attrs", "content")

    def __init__(self, tag: str, /, *content: Element | str, **attrs: object) -> None:
        self.tag = tag
        self.attrs = {name.replace("_", "-"): value for name, value in attrs.items() if value is not None}
        self.content: list[Element | str] = list(content)

    def append(self, node: Element | str) -> None:
        self.content.append(node)

    def render(self) -> str:
        attrs = "".join(f' {name}="{escape(_attr_value(value))}"' for name, value in self.attrs.items())
        if not self.content:
            return f"<{self.tag}{attrs}/>"
        inner = "".join(node.render() if isinstance(node, Element) else str(escape(node)) for node in self.content)
        return f"<{self.tag}{attrs}>{inner}</{self.tag}>"

    __str__ = render
    __html__ = render
