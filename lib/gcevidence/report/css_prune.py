"""Drop the style rules a rendered page can never use, so every paper is not 240 KB of theme.

nbconvert's lab template inlines all of JupyterLab's stylesheet (editors, widgets, dialogs) in
each page. Our pages have no script and hide every code cell, so the classes in the page's
markup are all the classes it will ever have: a rule whose every selector names a class absent
from the markup cannot apply and is dropped (a class inside `:not()` does not count). Rules
without a class selector (`:root` and its theme variables, element and attribute selectors)
and at-rules other than @media and @supports (@font-face, @keyframes, @page) are kept as they
are.
"""

from __future__ import annotations

import re

_STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.IGNORECASE | re.DOTALL)
_CLASS_ATTR = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
# A class selector: a dot then an identifier (not a number such as .5em in a value).
_CLASS_SELECTOR = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_GROUPING = ("@media", "@supports")
# `:not(.x)` matches more, not less, when x is absent; the other selector functions are kept
# whole rather than reasoned about.
_NOT = re.compile(r":not\([^()]*\)", re.IGNORECASE)
_FUNCTIONS = re.compile(r":(?:is|where|has|matches|-webkit-any|-moz-any)\(", re.IGNORECASE)


def page_classes(markup: str) -> set[str]:
    """Every class named in the markup's class attributes."""
    found: set[str] = set()
    for m in _CLASS_ATTR.finditer(markup):
        found.update((m.group(1) or m.group(2) or "").split())
    return found


def _blocks(css: str) -> list[tuple[str, str]] | None:
    """(prelude, body) of each top-level rule; None when the braces do not balance."""
    out, depth, start, prelude = [], 0, 0, ""
    for i, ch in enumerate(css):
        if ch == "{":
            if depth == 0:
                prelude, start = css[start:i], i + 1
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                out.append((prelude.strip(), css[start:i]))
                start = i + 1
    if depth != 0:
        return None
    tail = css[start:].strip()
    if tail:  # @import or @charset statements without a block
        out.insert(0, (tail, None))
    return out


def _applies(selectors: str, classes: set[str]) -> bool:
    if _FUNCTIONS.search(selectors):
        return True
    for selector in selectors.split(","):
        named = _CLASS_SELECTOR.findall(_NOT.sub("", selector))
        if all(name in classes for name in named):
            return True
    return False


def prune_css(css: str, classes: set[str]) -> str:
    """The stylesheet without the rules none of `classes` can match (unchanged if unparsable)."""
    blocks = _blocks(_COMMENT.sub("", css))
    if blocks is None:
        return css
    kept = []
    for prelude, body in blocks:
        if body is None:
            kept.append(prelude if prelude.endswith(";") else prelude + ";")
        elif prelude.startswith("@"):
            if prelude.lower().startswith(_GROUPING):
                inner = prune_css(body, classes)
                if inner.strip():
                    kept.append(f"{prelude}{{{inner}}}")
            else:
                kept.append(f"{prelude}{{{body}}}")
        elif _applies(prelude, classes):
            kept.append(f"{prelude}{{{body}}}")
    return "\n".join(kept)


def prune_page(markup: str) -> str:
    """The page with each inline stylesheet reduced to the rules its markup can use."""
    classes = page_classes(markup)
    return _STYLE.sub(lambda m: m.group(1) + prune_css(m.group(2), classes) + m.group(3), markup)
