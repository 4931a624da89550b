"""The documentation site built offline from nbdev's processed notebooks: every sidebar link works, nothing is loaded
from the network, every exported public function and class has a docstring and its card on its notebook's page, no
page shows exported code or a module's imports, the search box finds a function, and a page renders to pixels."""
import html, importlib, inspect, json, re, shutil, subprocess, sys, tempfile
from pathlib import Path

import pytest

from conftest import ROOT
from pymc_toolkit.reports import network_references
from test_reports import dump_dom

DOCS = ROOT / '_docs'

@pytest.fixture(scope='module')
def site():
    out = subprocess.run([sys.executable, str(ROOT / 'tools' / 'make-docs'), '--offline'], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return DOCS

def test_every_sidebar_link_works_offline(site):
    index = dump_dom(site / 'index.html')
    links = re.findall(r"<nav class=\"sidebar\">.*?</nav>", index, re.S)[0]
    targets = re.findall(r'href="([^"]+)"', links)
    notebooks = sorted(p.stem for p in (ROOT / 'nbs').glob('*.ipynb'))
    assert len(targets) == len(notebooks)                       # one page per notebook
    for t in targets:
        page = site / t
        assert page.exists(), f"broken sidebar link {t}"
        text = page.read_text()
        assert network_references(text) == [], t
        assert '<nav class="sidebar">' in dump_dom(page) or "<nav class='sidebar'>" in text

def exported():
    "(module, name, object) of every public function and class in every exported module."
    for py in sorted((ROOT / 'pymc_toolkit').glob('*.py')):
        if py.stem.startswith('_'): continue
        mod = importlib.import_module(f'pymc_toolkit.{py.stem}')
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name)
            if not name.startswith('_') and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == mod.__name__:
                yield py.stem, name, obj

def test_every_public_function_has_a_docstring_and_a_page(site):
    pages = {re.search(r'#\|\s*default_exp\s+([A-Za-z0-9_]+)', p.read_text()).group(1): p.stem
             for p in (ROOT / 'nbs').glob('*.ipynb') if 'default_exp' in p.read_text()}
    missing_doc, missing_page = [], []
    for module, name, obj in exported():
        if not (inspect.getdoc(obj) or '').strip(): missing_doc.append(f'{module}.{name}')
        if f'id="{name}"' not in (site / f'{pages[module]}.html').read_text(): missing_page.append(f'{module}.{name}')   # its card's heading
    assert not missing_doc, f"no docstring: {missing_doc}"
    assert not missing_page, f"not on its page: {missing_page}"

def page_text(page: Path) -> str:
    "What a reader sees on a page: the HTML without its tags, scripts and styles (code highlighting splits code into spans)."
    text = re.sub(r'<(script|style)\b.*?</\1>', '', page.read_text(), flags=re.S)
    return html.unescape(re.sub(r'<[^>]+>', '', text))

def test_no_page_shows_exported_code_or_imports(site):
    "An exported function is a card (signature, docstring), never its body; a module's import cell is not shown."
    pages = {re.search(r'#\|\s*default_exp\s+([A-Za-z0-9_]+)', p.read_text()).group(1): p for p in (ROOT / 'nbs').glob('*.ipynb') if 'default_exp' in p.read_text()}
    shown, checked = [], 0
    for module, name, obj in exported():
        if not inspect.isfunction(obj): continue
        examples = '\n'.join(''.join(c['source']) for c in json.loads(pages[module].read_text())['cells']
                             if c['cell_type'] == 'code' and '#| export' not in ''.join(c['source']))
        body = [l.strip() for l in inspect.getsource(obj).splitlines()[1:] if len(l.strip()) > 30 and not l.strip().startswith(('"', '#', "'"))]
        body = [l for l in body if l not in examples]   # a line an example also shows is fair
        checked += bool(body)
        text = page_text(site / f'{pages[module].stem}.html')
        shown += [f'{module}.{name}: {l}' for l in body[-1:] if l in text]
        if 'from __future__ import annotations' in text and f'{module}: its import cell' not in shown: shown.append(f'{module}: its import cell')
    assert checked > 100, checked                   # most exported functions have a body line no example shows
    assert not shown, f"exported code on the pages: {shown[:5]}"

def test_search_finds_a_function_offline(site):
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run([shutil.which('chromium'), '--headless', '--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP * ~NOTFOUND',
                              f'--user-data-dir={profile}', '--virtual-time-budget=10000', '--dump-dom',
                              (site / 'index.html').as_uri() + '?q=production_fleet'], capture_output=True, text=True, timeout=180)
    results = re.search(r'<ul id="search-results">(.*?)</ul>', out.stdout, re.S)
    assert results and 'href="05_fleets.html#production_fleet"' in results.group(1), out.stdout[-2000:]

def test_a_page_renders_to_pixels(site, tmp_path):
    shot = tmp_path / 'page.png'
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([shutil.which('chromium'), '--headless', '--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP * ~NOTFOUND',
                        f'--user-data-dir={profile}', '--window-size=1300,1000', '--virtual-time-budget=10000', f'--screenshot={shot}',
                        (site / '05_fleets.html').as_uri()], capture_output=True, text=True, timeout=180)
    assert shot.exists() and shot.stat().st_size > 40_000, "the page rendered blank (a blank 1300x1000 PNG is a few KB)"
