"""Batches on a real Dask cluster (scheduler and worker processes on 127.0.0.1): a broken client is recorded and
the others finish; a worker killed mid-task has its task retried; an unchanged re-run refits nothing."""
import json, os, signal, subprocess, sys, threading, time
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client, LocalCluster

from conftest import ROOT
from pymc_toolkit.batch import ClientsFileError, load_clients, run_batch
from pymc_toolkit.portfolio import read_runs, run_folder

CHANNELS = ['tv_cost', 'search_cost', 'social_cost']

def clients_file(folder: Path, ids=('alpha', 'beta', 'broken', 'badlift')) -> Path:
    """Small clients cut from the second demo client: 'alpha' with its lift tests, 'broken' with a negative spend in
    row 5, 'badlift' with good data but a lift test whose sigma is 0 in row 2."""
    data = pd.read_csv(ROOT / 'data' / 'shop2.csv')
    data.to_csv(folder / 'good.csv', index=False)
    bad = data.copy(); bad.loc[5, 'search_cost'] = -10.0
    bad.to_csv(folder / 'broken.csv', index=False)
    tests = pd.read_csv(ROOT / 'data' / 'shop2_lift_tests.csv')
    tests.to_csv(folder / 'lift.csv', index=False)
    tests.assign(sigma=[1.0, 0.0, 1.0, 1.0]).to_csv(folder / 'badlift.csv', index=False)
    extra = {'alpha': ', lift_tests: lift.csv', 'badlift': ', lift_tests: badlift.csv'}
    entries = ''.join(f"  - {{client_id: {i}, data: {'broken' if i == 'broken' else 'good'}.csv{extra.get(i, '')}}}\n" for i in ids)
    (folder / 'clients.yaml').write_text(f"""
defaults:
  target_name: ecommerce_revenue
  date_column: date_week
  channel_names: {CHANNELS}
  control_names: [events]
  model: {{time_varying_media: false}}
  sampler: {{chains: 2, draws: 60, tune: 60, random_seed: 3}}
  fleets: {{production: {{test_weeks: 4}}}}
clients:
{entries}""")
    return folder / 'clients.yaml'

@pytest.fixture(scope='module')
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host='127.0.0.1', dashboard_address=':0') as c:
        yield c

def test_broken_client_is_recorded_and_the_others_finish(cluster, tmp_path):
    path = clients_file(tmp_path)
    out = tmp_path / 'out'
    cli = Path(sys.executable).parent / 'pymc-toolkit'
    run = subprocess.run([str(cli), 'run', str(path), '--out', str(out), '--scheduler', cluster.scheduler_address],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 1, run.stderr[-3000:]
    first, = read_runs(out)
    here = run_folder(out, first.run_id)
    assert (here / 'alpha' / 'production.html').exists() and (here / 'beta' / 'production.html').exists()
    broken = json.loads((here / 'broken' / 'production.manifest.json').read_text())
    assert broken['status'] == 'failed'
    assert "Channel 'search_cost' row 5 is negative" in broken['error']
    badlift = json.loads((here / 'badlift' / 'production.manifest.json').read_text())   # its experiments fail it, alone
    assert badlift['status'] == 'failed' and "Lift test row 2 (channel 'tv_cost'): sigma is 0" in badlift['error']
    good = json.loads((here / 'alpha' / 'production.manifest.json').read_text())
    assert good['status'] == 'success' and len(good['data_sha256']) == 64 and good['seed'] == 3
    assert len(good['lift_tests_sha256']) == 64 and good['client']['lift_tests'].endswith('lift.csv')
    assert '<h2>Experiments</h2>' in (here / 'alpha' / 'production.html').read_text()
    assert good['versions']['pymc-marketing'] and good['fleet_options'] == {'test_weeks': 4}
    index = (out / 'index.html').read_text()      # the portfolio page
    for cid in ('alpha', 'beta', 'broken', 'badlift'): assert f'<td>{cid}</td>' in index
    assert f"href='runs/{first.run_id}/alpha/production.html'" in index and 'negative' in index
    assert f"href='../../runs/{first.run_id}/alpha/production.html'" in (here / 'index.html').read_text()   # the run's own page
    assert 'FAILED broken/production' in run.stderr

    # nothing changed: the re-run skips both successful tasks and refits nothing (the broken one runs again)
    start = time.time()
    again = run_batch(path, out, scheduler=cluster.scheduler_address, only=['alpha', 'beta'])
    assert all(m['skipped'] for m in again) and time.time() - start < 60
    assert {m['result_run'] for m in again} == {first.run_id} and (run_folder(out, again[0]['run_id']) / 'alpha' / 'production.manifest.json').exists()
    assert [r.run_id for r in read_runs(out)][0] == first.run_id                    # the first run is kept as it was

def test_a_worker_killed_mid_task_has_its_task_retried(cluster, tmp_path):
    path = clients_file(tmp_path, ids=('alpha', 'beta'))
    out, result = tmp_path / 'out', {}
    runner = threading.Thread(target=lambda: result.update(m=run_batch(path, out, scheduler=cluster.scheduler_address, retries=3)))
    with Client(cluster.scheduler_address) as client:
        runner.start()
        deadline = time.time() + 120
        while time.time() < deadline and not any(client.processing().values()): time.sleep(0.5)
        busy = next(w for w, tasks in client.processing().items() if tasks)
        time.sleep(3)   # well inside the task: kernel started, sampling under way
        pid = client.run(os.getpid, workers=[busy])[busy]
        os.kill(pid, signal.SIGKILL)
        runner.join(timeout=900)
        pids_after = set(client.run(os.getpid).values())
    assert not runner.is_alive()
    assert pid not in pids_after                                   # the worker really died (the nanny started another)
    assert sorted(m['status'] for m in result['m']) == ['success', 'success']
    assert all(m['pid'] != pid for m in result['m'])               # its task finished on another worker
    here = run_folder(out, result['m'][0]['run_id'])
    assert (here / 'alpha' / 'production.html').exists() and (here / 'beta' / 'production.html').exists()

@pytest.mark.parametrize('text, message', [
    ("clients: [{client_id: ../x, data: a.csv, target_name: y, date_column: d, channel_names: [tv], fleets: {production: {}}}]", "'client_id'"),
    ("clients: [{client_id: /etc, data: a.csv, target_name: y, date_column: d, channel_names: [tv], fleets: {production: {}}}]", "cannot be used as a file name"),
    ("clients: [{client_id: a, data: a.csv, target_name: y, date_column: d, channel_names: [tv], fleets: {production: {}}, extra: 1}]", "unknown key 'extra'"),
    ("clients: [{client_id: a, data: a.csv, target_name: y, date_column: d, channel_names: tv, fleets: {production: {}}}]", "'channel_names' must be a list"),
    ("clients: [{client_id: a, data: a.csv, target_name: y, date_column: d, channel_names: [tv], fleets: {production: {weeks: 4}}}]", "fleet 'production' has no option 'weeks'"),
    ("clients: [{client_id: a, data: a.csv, target_name: y, date_column: d, channel_names: [tv], sampler: {draw: 5}, fleets: {production: {}}}]", "unknown sampler setting 'draw'"),
    ("defaults: {colour: red}\nclients: []", "defaults: unknown key 'colour'"),
    ("", "must be a mapping"),
], ids=['parent dir id', 'absolute id', 'unknown key', 'wrong type', 'unknown fleet option', 'unknown sampler key', 'unknown default', 'empty file'])
def test_bad_clients_files(tmp_path, text, message):
    (tmp_path / 'c.yaml').write_text(text)
    with pytest.raises(ClientsFileError) as err: load_clients(tmp_path / 'c.yaml')
    assert message in str(err.value)

def test_weekly_refresh_script(tmp_path):
    "The discoveries script runs production + holdout for every client and writes the index (small draws)."
    clients_file(tmp_path, ids=('alpha',))
    out = tmp_path / 'weekly'
    # relative paths, as a user types them: resolved against the current folder, not the notebook's
    run = subprocess.run([sys.executable, str(ROOT / 'discoveries' / 'weekly_refresh.py'), 'clients.yaml', '--out', 'weekly',
                          '--workers', '1', '--holdouts', '4', '8'], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert run.returncode == 3, run.stderr[-3000:]       # ran, but 60-draw fits cannot be healthy: the script says so
    assert '2 tasks: 0 failed, 2 not healthy' in run.stdout
    run, = read_runs(out)
    for fleet in ('production', 'holdout'): assert (run_folder(out, run.run_id) / 'alpha' / f'{fleet}.html').exists()
    assert 'holdout' in (out / 'index.html').read_text()
