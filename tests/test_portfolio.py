"""The portfolio of a two-run batch on a real Dask cluster, opened in headless Chromium with the network unreachable:
the second run, with one client's data changed, re-fits that client alone and raises an alert on the page, in
`portfolio.json` and from `pymc-toolkit status` (exit code 2)."""
import json, re, subprocess, sys
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest
from distributed import LocalCluster

from conftest import ROOT
from test_reports import dump_dom
from pymc_toolkit.batch import run_batch
from pymc_toolkit.portfolio import read_runs
from pymc_toolkit.reports import network_references

CLIENTS = """
defaults:
  target_name: ecommerce_revenue
  date_column: date_week
  channel_names: [tv_cost, search_cost, social_cost]
  control_names: [events]
  model: {time_varying_media: false}
  sampler: {chains: 2, draws: 60, tune: 60, random_seed: 3}
  fleets: {production: {test_weeks: 4}}
alerts: {stale_weeks: 2}
clients:
  - {client_id: alpha, data: alpha.csv}
  - {client_id: beta, data: beta.csv}
"""

@pytest.fixture(scope='module')
def two_runs(tmp_path_factory):
    """Week 1: two clients. Week 2: beta's revenue is three times what it was (a changed feed, say a currency
    switch), alpha is unchanged. Every ROAS of beta triples: far outside week 1's interval, whatever the small draws."""
    folder = tmp_path_factory.mktemp('portfolio')
    data = pd.read_csv(ROOT / 'data' / 'shop2.csv')
    for cid in ('alpha', 'beta'): data.to_csv(folder / f'{cid}.csv', index=False)
    (folder / 'clients.yaml').write_text(CLIENTS)
    out = folder / 'out'
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host='127.0.0.1', dashboard_address=':0') as cluster:
        week1 = run_batch(folder / 'clients.yaml', out, scheduler=cluster.scheduler_address, run_id='week-1')
        data.assign(ecommerce_revenue=3 * data.ecommerce_revenue).to_csv(folder / 'beta.csv', index=False)
        week2 = run_batch(folder / 'clients.yaml', out, scheduler=cluster.scheduler_address, run_id='week-2')
    return out, week1, week2

def test_only_the_changed_client_is_refitted(two_runs):
    out, week1, week2 = two_runs
    assert [m['status'] for m in week1] == ['success', 'success']
    second = {m['client_id']: m for m in week2}
    assert second['alpha']['skipped'] and second['alpha']['result_run'] == 'week-1'   # points to the run that made it
    assert not second['beta']['skipped'] and second['beta']['result_run'] == 'week-2'
    assert [r.run_id for r in read_runs(out)] == ['week-1', 'week-2']
    assert json.loads((out / 'runs' / 'week-1' / 'beta' / 'production.manifest.json').read_text())['run_id'] == 'week-1'   # never overwritten

def test_the_alert_is_data_and_a_status_exit_code(two_runs):
    out, _, _ = two_runs
    portfolio = json.loads((out / 'portfolio.json').read_text())
    kinds = {(a['kind'], a['client_id']) for a in portfolio['alerts']}
    assert ('roas_moved', 'beta') in kinds and not any(c == 'alpha' for _, c in kinds)
    assert [h['run_id'] for h in next(r for r in portfolio['clients'] if r['client_id'] == 'alpha')['history']] == ['week-1', 'week-2']
    cli = Path(sys.executable).parent / 'pymc-toolkit'
    status = subprocess.run([str(cli), 'status', str(out)], capture_output=True, text=True, timeout=300)
    assert status.returncode == 2, status.stderr[-2000:]
    assert re.search(r"^ALERT beta/production: ROAS of \w+ moved to ", status.stdout, re.M), status.stdout

def test_the_portfolio_page_in_a_browser(two_runs):
    out, _, _ = two_runs
    page = out / 'index.html'
    text = page.read_text()
    assert network_references(text) == []
    assert len(re.findall(r'\* plotly\.js v\d', text)) == 1                    # plotly.js inlined once
    figures = text.count('class="plotly-graph-div"')
    assert figures == 4                                                         # two trend lines per client
    dom = dump_dom(page)
    drawn = len(re.findall(r'<div[^>]+class="plotly-graph-div[^"]*"[^>]*>\s*<div class="plot-container', dom))
    assert drawn == figures, f"{drawn} of {figures} charts drawn"
    assert re.search(r'<li>beta/production: ROAS of \w+ moved to [\d.]+, outside last run', dom), 'the alert is not shown'
    page_links = re.sub(r'<script.*?</script>', '', text, flags=re.S)           # the page's own links, not strings inside plotly.js
    links = set(re.findall(r"href='([^']+)'", page_links))
    assert any(l.startswith('runs/week-1/alpha/') for l in links) and any(l.startswith('runs/week-2/beta/') for l in links)
    missing = [l for l in links if not (out / unquote(l)).exists()]
    assert missing == [], f"links that do not resolve: {missing}"
