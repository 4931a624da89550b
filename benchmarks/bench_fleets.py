#!/usr/bin/env python
"""Full-size recovery and stability fleets on the demo client (guide configuration, 4 chains x 1000 draws):
prints the recovery coverage and scores per parameter group, and the ROAS coefficient of variation per channel.
Run by hand (about 5 minutes on 2 cores):  .venv/bin/python benchmarks/bench_fleets.py [--simulations 3]
"""
import argparse, logging, time
from pathlib import Path

import pandas as pd

from pymc_toolkit.demo_data import load_demo_client
from pymc_toolkit.pymc_model import PymcModel

ROOT = Path(__file__).resolve().parents[1]

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--simulations', type=int, default=3)
    p.add_argument('--skip-stability', action='store_true')
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    pd.set_option('display.width', 200)
    demo = load_demo_client(ROOT / 'data')
    t = demo.truth
    model = PymcModel(demo.data, t['target'], t['date_column'], t['channels'], t['controls'], time_varying_media=True)
    start = time.perf_counter()
    r = model.recovery_fleet(n_simulations=a.simulations)
    s = r.summary()
    v = r.scores['recovery_values']
    print(f"\n== Recovery fleet, {a.simulations} simulated truths, {time.perf_counter() - start:.0f} s")
    print(f"truth inside the 94% interval for {s['recovery_coverage']:.1%} of all values "
          f"({len(v)} values over {a.simulations} simulations); healthy: {s['healthy']} {s['health_reasons']}")
    print(r.scores['recovery_table'].round(3).to_string(index=False))
    print(f"max r_hat over the fits {s['max_r_hat']:.3f}, divergences {s['divergences']}, min bulk ESS {s['min_ess_bulk']:.0f}")
    if a.skip_stability: return
    start = time.perf_counter()
    st = model.stability_fleet()
    ss = st.summary()
    print(f"\n== Stability fleet (seeds 1, 2, 3; drop first 4 and 8 weeks), {time.perf_counter() - start:.0f} s")
    print(st.scores['stability_table'].round(3).to_string(index=False))
    print(f"max ROAS CV {ss['stability']['max_roas_cv']:.3f}, max rank change {ss['stability']['max_rank_change']}; "
          f"healthy: {ss['healthy']} {ss['health_reasons']}")

if __name__ == '__main__':
    main()
