"""The theme's style rules a page cannot use are dropped; every rule it can use is kept."""

from __future__ import annotations

from gcevidence.report.css_prune import page_classes, prune_css, prune_page

CSS = """
:root { --jp-ui-font-size1: 13px; }
/* a comment { with a brace } */
body { margin: 0; }
.jp-Cell { padding: 4px; }
.jp-Dialog { z-index: 10000; }
.jp-Cell .jp-CodeMirrorEditor, .jp-InputArea { display: none; }
.jp-RenderedHTMLCommon ul:not(.list-inline) { padding-left: 2em; }
.jp-Toolbar:is(.jp-mod-a) { color: red; }
@media print { .jp-Cell { break-inside: avoid; } .jp-Toolbar { display: none; } }
@media screen { .jp-Toolbar { height: 24px; } }
@font-face { font-family: X; src: local(X); }
@keyframes spin { from { opacity: 0; } to { opacity: 1; } }
.gce-table td { width: 0.5em; }
"""


def test_rules_for_absent_classes_go_and_the_rest_stay():
    out = prune_css(CSS, {"jp-Cell", "jp-InputArea", "jp-RenderedHTMLCommon", "gce-table"})
    for kept in (
        "--jp-ui-font-size1",  # theme variables
        "body{",
        ".jp-Cell{ padding",
        ".jp-InputArea",  # one selector of the list applies: the whole rule stays
        "ul:not(.list-inline)",  # an absent class inside :not() still matches
        ":is(.jp-mod-a)",  # selector functions are not reasoned about
        "break-inside: avoid",
        "@font-face",
        "@keyframes spin",
        "width: 0.5em",  # .5em in a value is not a class
    ):
        assert kept in out, kept
    for dropped in (".jp-Dialog", "z-index", "height: 24px", "@media screen", "a comment"):
        assert dropped not in out, dropped
    assert "display: none; } }" not in out and ".jp-Toolbar{ display" not in out


def test_a_stylesheet_that_does_not_parse_is_left_as_it_is():
    broken = ".jp-Dialog { color: red; "
    assert prune_css(broken, set()) == broken


def test_a_page_keeps_the_rules_its_markup_names():
    page = (
        "<html><head><style>.used { color: blue; } .unused { color: red; }</style></head>"
        "<body><div class='used other'>x</div><p class=\"gce-note\">y</p></body></html>"
    )
    assert page_classes(page) == {"used", "other", "gce-note"}
    pruned = prune_page(page)
    assert ".used{ color: blue; }" in pruned and ".unused" not in pruned
    assert pruned.endswith(
        "<body><div class='used other'>x</div><p class=\"gce-note\">y</p></body></html>"
    )
