"""The documentation site built offline: every sidebar link works, nothing is loaded from the network, and every
exported public function and class has a docstring and appears on its notebook's page."""
import importlib, inspect, re, subprocess, sys, tempfile
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
        if f"id='{name}'" not in (site / f'{pages[module]}.html').read_text(): missing_page.append(f'{module}.{name}')
    assert not missing_doc, f"no docstring: {missing_doc}"
    assert not missing_page, f"not on its page: {missing_page}"
