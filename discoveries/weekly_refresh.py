#!/usr/bin/env python
"""Weekly refresh of every client in a clients file: production and holdout fleets, reports and the index.

What it does, for each client of CLIENTS.yaml (or the ones named with --only):
1. reads the client's data file as it is now (the refreshed weeks: the inputs hash covers the data's sha256,
   so a client whose data did not change is skipped, its last reports kept);
2. runs the production fleet (train on all but the last `--test-weeks` weeks, score the held-out weeks) and the
   holdout fleet (horizons `--holdouts`), each through its report notebook;
3. writes a run folder <out>/runs/<run id>/<client>/<fleet>.html, .ipynb and .manifest.json, and the portfolio
   <out>/index.html (alerts on what changed since the last run; see nbs/09a_portfolio);
4. exits 0 when every task succeeded and every fleet is healthy, 1 when a task failed, 3 when all ran but some
   fleet is not healthy (its reasons are on the index page and in the report).

Run:  python discoveries/weekly_refresh.py data/clients.yaml --out out/weekly [--only demo] [--scheduler tcp://...]
"""
import argparse, logging, sys
from pathlib import Path

from pymc_toolkit.batch import load_clients, run_batch

def weekly_clients(path: str, test_weeks: int, holdouts: list[int]):
    "The clients file with every client's fleets set to this refresh's production and holdout fleets."
    clients = load_clients(path)
    for c in clients.clients:
        c['fleets'] = {'production': {'test_weeks': test_weeks}, 'holdout': {'holdouts': holdouts}}
    return clients

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('clients'); p.add_argument('--out', required=True)
    p.add_argument('--only', nargs='+'); p.add_argument('--scheduler'); p.add_argument('--workers', type=int)
    p.add_argument('--test-weeks', type=int, default=4); p.add_argument('--holdouts', type=int, nargs='+', default=[4, 8, 12])
    p.add_argument('--force', action='store_true')
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    logging.getLogger('pymc_toolkit.batch').setLevel(logging.INFO)
    manifests = run_batch(weekly_clients(a.clients, a.test_weeks, a.holdouts), a.out, only=a.only, force=a.force,
                          scheduler=a.scheduler, workers=a.workers)
    failed = [m for m in manifests if m['status'] != 'success']
    unhealthy = [m for m in manifests if m['status'] == 'success' and not (m.get('summary') or {}).get('healthy')]
    print(f"{len(manifests)} tasks: {len(failed)} failed, {len(unhealthy)} not healthy. Portfolio: {Path(a.out) / 'index.html'}")
    for m in failed: print(f"FAILED {m['client_id']}/{m['fleet']}: {m.get('error')}", file=sys.stderr)
    return 1 if failed else 3 if unhealthy else 0

if __name__ == '__main__':
    sys.exit(main())
