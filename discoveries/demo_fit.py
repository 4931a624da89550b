#!/usr/bin/env python
"""Fit the bundled demo client with the user guide's configuration and print what a data scientist reads first.

What it does: loads `data/ms.csv` (161 weeks, 13 channels, 2 controls), fits the guide's model
(Michaelis-Menten saturation, geometric adstock with lag 4, time-varying media) with the toolkit's default
sampler settings, and prints the convergence diagnostics, the intercept's summary and the per-channel
contribution and ROAS table, next to the truth the demo data was simulated from.

Run: `make demo`, or `python discoveries/demo_fit.py [--draws N --tune N --chains N --sampler NAME --fits FOLDER]`.
With `--fits out/fits` (as `make demo` runs it, after the demo batch) the fit comes from the demo batch's fit store:
the batch's forecast fleet fits the same model on the same weeks with the same seed, so this loads its fit; without it
in the store the fit is sampled here and kept there.
Exit code: 0 when the fit converged, 3 when it ran but did not converge (the diagnostics say why).
"""
import argparse, logging, sys
from pathlib import Path

import pandas as pd

from pymc_toolkit.demo_data import load_demo_client
from pymc_toolkit.fit_store import keeping_fits
from pymc_toolkit.pymc_model import PymcModel
from pymc_toolkit.sampling import DEFAULT_SAMPLER, TerminalProgress, convergence_problems, reporting_progress

ROOT = Path(__file__).resolve().parents[1]

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for k in ('chains', 'draws', 'tune'): p.add_argument(f'--{k}', type=int, default=DEFAULT_SAMPLER[k])
    p.add_argument('--sampler', default=DEFAULT_SAMPLER['nuts_sampler'], help='nutpie, numpyro, blackjax or pymc')
    p.add_argument('--seed', type=int, default=DEFAULT_SAMPLER['random_seed'])
    p.add_argument('--data', default=str(ROOT / 'data'), help='folder with ms.csv and ms_truth.json')
    p.add_argument('--fits', help="a fit store folder (e.g. out/fits, the demo batch's): the fit is loaded from it if it holds it, else kept there")
    p.add_argument('-v', '--verbose', action='store_true', help="log every step of the toolkit (INFO); by default only warnings")
    return p.parse_args(argv)

def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format='%(levelname)s:%(name)s:%(message)s')
    for noisy in ('pymc', 'pytensor', 'jax', 'numba', 'pymc_marketing'): logging.getLogger(noisy).setLevel(logging.WARNING)
    demo = load_demo_client(args.data)
    truth = demo.truth
    model = PymcModel(demo.data, truth['target'], truth['date_column'], truth['channels'], truth['controls'],
                      lag_max=4, scale_data=True, saturation='michaelis_menten', time_varying_media=True,
                      chains=args.chains, draws=args.draws, tune=args.tune, nuts_sampler=args.sampler, random_seed=args.seed)
    print(f"Fitting the demo client: {args.chains} chains x {args.draws} draws (+{args.tune} tuning) with {args.sampler} ...", flush=True)
    with reporting_progress(TerminalProgress() if sys.stderr.isatty() else None), keeping_fits(args.fits):   # a live line in a terminal
        model.fit()
    if model.diagnostics.get('loaded_from_store'): print(f"(loaded from the fit store {args.fits}: sampled before with the same data and settings)")
    pd.set_option('display.width', 200, 'display.max_columns', 20)
    d = model.diagnostics
    print(f"\n== Diagnostics: {d['divergences']} divergences, max r_hat {d['max_r_hat']:.3f}, "
          f"min bulk ESS {d['min_ess_bulk']:.0f}, min tail ESS {d['min_ess_tail']:.0f}, fit {d['fit_seconds']:.0f} s")
    problems = convergence_problems(d)
    print("== Converged." if not problems else "== NOT converged: " + '; '.join(problems))
    print("\n== Intercept (weekly baseline revenue, 94% interval):")
    print(model.summarize_variable('intercept'))
    table = model.channel_summary()
    table['true_roas'] = pd.Series({c: truth['channel'][c]['roas'] for c in table.index})
    print("\n== ROAS per channel (94% interval; youtube_organic_views is revenue per view):")
    print(table[['spend', 'contribution', 'share', 'roas', 'roas_low', 'roas_high', 'true_roas', 'unit']].round(3).to_string())
    return 0 if not problems else 3

if __name__ == '__main__':
    sys.exit(main())
