"""Reports of every fleet kind, opened in headless Chromium with the network unreachable: every chart drawn,
nothing loaded from outside, client names escaped, the same page with and without network."""
import re, shutil, subprocess, tempfile
from pathlib import Path

import pytest

from conftest import ROOT, SMALL
from pymc_toolkit.reports import DEMO_CLIENT, network_references, render_html, run_report

KINDS = ['production', 'holdout', 'recovery', 'stability', 'forecast', 'budget']
HOSTILE = '<script>alert(1)</script>'
OPTIONS = {'holdout': {'holdouts': [4, 8]}, 'stability': {'seeds': [1, 2], 'drop_weeks': [8]}}

@pytest.fixture(scope='session')
def reports(tmp_path_factory, demo):
    "One report per fleet kind (small draws), plus a production report of a client with a hostile channel name."
    out = tmp_path_factory.mktemp('reports')
    pages = {k: run_report(k, out, fleet_options=OPTIONS.get(k), sampler=SMALL) for k in KINDS}
    data = demo.data.rename(columns={'snapchat_cost': HOSTILE})
    csv = out / 'hostile.csv'
    data.to_csv(csv, index=False)
    channels = [HOSTILE if c == 'snapchat_cost' else c for c in demo.truth['channels']]
    client = {**DEMO_CLIENT, 'client_id': 'hostile', 'data': str(csv), 'channel_names': channels}
    pages['hostile'] = run_report('production', out, client=client, sampler=SMALL)
    return pages

def chromium() -> str:
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    assert exe, "chromium is not installed: `make test` installs it (Debian package chromium)"
    return exe

def dump_dom(page: Path) -> str:
    "The page's DOM after its scripts ran, with every host name unresolvable (no request can leave the machine)."
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run([chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                              '--disable-background-networking', '--disable-component-update', '--disable-sync',
                              '--host-resolver-rules=MAP * ~NOTFOUND', f'--user-data-dir={profile}',
                              '--virtual-time-budget=20000', '--dump-dom', page.as_uri()],
                             capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout

@pytest.mark.parametrize('kind', KINDS + ['hostile'])
def test_every_chart_is_drawn_offline(reports, kind):
    page = reports[kind]
    text = page.read_text()
    assert network_references(text) == []
    assert len(re.findall(r'\* plotly\.js v\d', text)) == 1          # plotly.js inlined once
    assert page.stat().st_size < 8e6
    figures = text.count('class="plotly-graph-div"')
    assert figures >= 6                                              # fit + 5 channel charts at least
    dom = dump_dom(page)
    drawn = len(re.findall(r'<div[^>]+class="plotly-graph-div[^"]*"[^>]*>\s*<div class="plot-container', dom))
    assert drawn == figures, f"{drawn} of {figures} figures drawn"
    assert dom.count('class="main-svg"') >= 2 * figures             # plotly drew its SVG layers
    assert 'HEALTHY' in dom and 'Sampler diagnostics' in dom         # the verdict comes first
    assert page.with_suffix('.ipynb').exists()

def test_fleet_specific_sections(reports):
    assert 'Holdout horizons' in reports['holdout'].read_text()
    assert 'Truth covered for' in reports['recovery'].read_text()
    assert 'ROAS (posterior mean) in each refit' in reports['stability'].read_text()
    assert 'Media plan' in reports['forecast'].read_text()
    budget = reports['budget'].read_text()
    assert 'Response curves' in budget and 'Marginal ROAS' in budget and 'P(recommended beats current)' in budget

def test_client_names_are_escaped(reports):
    text = reports['hostile'].read_text()
    assert HOSTILE not in text
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in text

def test_same_page_without_network(reports, tmp_path):
    "Rendering in a network namespace with no interface gives the same bytes as rendering here."
    executed = reports['production'].with_suffix('.ipynb')
    here = render_html(executed, tmp_path / 'here.html').read_text()
    import sys
    code = f"from pymc_toolkit.reports import render_html; render_html({str(executed)!r}, {str(tmp_path / 'offline.html')!r})"
    out = subprocess.run(['unshare', '--net', '--map-root-user', sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / 'offline.html').read_text() == here

def test_budget_report_of_a_fleet_saved_before_it_kept_its_curves(small_fit):
    "A budget fleet saved without its curves and marginal ROAS (as before the fleet kept them) shows the same, computed from its model."
    from pymc_toolkit.budget import budget_fleet
    from pymc_toolkit.reports import budget_section
    fleet = budget_fleet(small_fit)
    kept = budget_section(fleet)
    for name in ('curves', 'mroas'): del fleet.frames[name]
    computed = budget_section(fleet)
    assert 'Response curves' in computed
    mroas = lambda html: html[html.index('<h3>Marginal ROAS'):]   # the table after the curves' chart (whose div ids differ)
    assert mroas(computed) == mroas(kept)                          # the same window and posterior: the same table
