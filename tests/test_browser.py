"""Every rendered page of a demo pack in headless Chromium: offline, inert, complete."""

import json
import shutil
from urllib.parse import urlparse

import pytest
from test_pipeline import demo_pack  # noqa: F401  (shared session fixture: one demo run)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium on PATH"),
]

# Set by any injected script that manages to run; never defined by our pages.
PROBE = "window.__pwned === undefined && window.__alerted === undefined"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def _allowed(url: str) -> bool:
    scheme = urlparse(url).scheme
    host = urlparse(url).hostname or ""
    return scheme in ("file", "data", "about", "blob") or host in ("127.0.0.1", "localhost")


def open_page(browser, path):
    """Load a page; return (page, console errors, requests leaving the machine, dialogs)."""
    page = browser.new_page()
    errors, outside, dialogs = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    def route(r):
        if _allowed(r.request.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    return page, errors, outside, dialogs


def test_every_page_offline_inert_and_complete(browser, demo_pack):  # noqa: F811
    result, _, planted, _, _ = demo_pack
    pack = result.pack_dir
    doc = json.loads((pack / "findings.json").read_text(encoding="utf-8"))
    pages = sorted(pack.glob("*.html"))
    assert len(pages) >= 6
    texts = {}
    for path in pages:
        page, errors, outside, dialogs = open_page(browser, path)
        assert errors == [], (path.name, errors)
        assert outside == [], (path.name, outside)
        assert dialogs == [], (path.name, dialogs)
        assert page.evaluate(PROBE), path.name
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.alt || i.src.slice(0, 60))"
        )
        assert broken == [], (path.name, broken)
        texts[path.stem] = page.evaluate("document.body.textContent")
        page.close()
    # Every planted exception is visible, by name, in its working paper.
    by_check = {f["check"]: f for f in doc["findings"]}
    for check, subjects in planted.items():
        finding = by_check[check]
        text = texts[finding["notebook"]]
        for e in finding["exceptions"]:
            if e["subject_id"] in subjects:
                assert e["subject_id"] in text, (check, e["subject_id"])
                if e["subject_name"]:
                    assert e["subject_name"] in text, (check, e["subject_name"])
    assert any("<script>alert(1)</script>" in t for t in texts.values())  # shown as text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="no pdftotext (poppler-utils)")
def test_every_pdf_page_is_numbered_and_names_the_run_and_evidence_digest(demo_pack):  # noqa: F811
    import subprocess

    from gcevidence.pack.manifest import evidence_digest

    pack = demo_pack[0].pack_dir
    run_id = json.loads((pack / "findings.json").read_text(encoding="utf-8"))["run"]["id"]
    digest = evidence_digest(pack)
    pdfs = sorted(pack.glob("*.pdf"))
    assert len(pdfs) == 5
    for pdf in pdfs:
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        pages = text.split("\f")[:-1]  # pdftotext ends every page with a form feed
        assert len(pages) >= 2, pdf.name
        for n, page in enumerate(pages, 1):
            flat = " ".join(page.split())
            assert f"page {n} of {len(pages)}" in flat, (pdf.name, n)
            assert f"gcevidence · run {run_id} · evidence digest" in flat, (pdf.name, n)
            assert digest in flat.replace(" ", ""), (pdf.name, n)


def test_every_pdf_is_tagged_and_packed(demo_pack):  # noqa: F811
    """The printed papers keep Chromium's structure tree (screen readers follow their tables),
    packed into compressed object streams rather than one plain object per tag."""
    import pikepdf

    for path in sorted(demo_pack[0].pack_dir.glob("*.pdf")):
        raw = path.read_bytes()
        with pikepdf.open(path) as pdf:
            assert pdf.Root.MarkInfo.Marked, path.name
            assert "/StructTreeRoot" in pdf.Root, path.name
            assert len(pdf.pages) >= 2, path.name
        assert b"/ObjStm" in raw, path.name
        # Tags are no longer plain text in the file: every StructElem sits in a packed stream.
        assert raw.count(b"/StructElem") == 0, path.name


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="no pdftotext (poppler-utils)")
def test_a_long_table_prints_its_first_rows_and_says_where_the_rest_are(tmp_path):
    """Chromium's memory grows with the rows it prints: paper stops at PRINTED_ROWS and says so,
    while the HTML page keeps every row."""
    import subprocess

    from gcevidence.report.html import PRINTED_ROWS, STYLE, table
    from gcevidence.report.render import print_pdf

    rows = [(f"row-{i:04d}", f"detail {i}") for i in range(1, PRINTED_ROWS + 41)]
    page = tmp_path / "long.html"
    body = table(
        ("id", "detail"), rows, caption="All exceptions", elsewhere="findings.csv lists them too"
    )
    page.write_text(f"<html><head>{STYLE}</head><body>{body}</body></html>", encoding="utf-8")
    markup = page.read_text(encoding="utf-8")
    assert all(f"<td>{r[0]}</td>" in markup for r in rows)  # the HTML holds every row
    pdf = print_pdf(shutil.which("chromium"), page, tmp_path / "long.pdf")
    # Printed from a copy without the unprinted rows, which is gone; the page is as it was.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.html", "long.pdf"]
    assert page.read_text(encoding="utf-8") == markup
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    printed = {r[0] for r in rows if r[0] in text}
    assert printed == {r[0] for r in rows[:PRINTED_ROWS]}
    flat = " ".join(text.split())
    assert f"Printed: the first {PRINTED_ROWS} of these {len(rows)} rows." in flat
    assert f"The HTML copy of this page shows all {len(rows)}; findings.csv lists them too." in flat
