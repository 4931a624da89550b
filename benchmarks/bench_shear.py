#!/usr/bin/env python
"""Benchmark (an experiment left out of the package): would sampling a Michaelis-Menten curve in sheared coordinates
cut the engine's leapfrog steps per draw?

The engine's decorrelated stage takes ~150 leapfrog steps per draw on the demo client. This script measures why (the
local curvature of the posterior at posterior draws, in the decorrelated coordinates scaled by the posterior spread) and
tries one nonlinear remedy: each channel's amplitude sampled as the curve's log-height at the channel's typical input,
`y_alpha = log alpha - softplus(log lam - log c)` (a shear: Jacobian 1, the same posterior). It runs the engine's two
stages by hand (a pilot of 700 tuning steps and 150 draws at target_accept 0.9, then 150 tuning steps and 1000 draws
decorrelated), in the engine's coordinates (at each `--engine-targets`; the engine's own is 0.97) and sheared (at each
`--sheared-targets`), 4 chains on
2 cores, no retry, and prints nutpie's sampling time, steps per draw, divergences, max r_hat and min bulk ESS of each.

Run by hand, not in CI (about 1 min per client and seed on 2 cores):

    .venv/bin/python benchmarks/bench_shear.py                                   # the demo client, seed 1, and its curvature
    .venv/bin/python benchmarks/bench_shear.py --clients demo shop2 demo_plan_seed7 big_3y_8ch small_noisy_4ch --seeds 1 2
"""
import argparse, dataclasses, sys, time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'benchmarks'))

def load_client(name: str):
    from pymc_toolkit.demo_data import load_demo_client, simulate_demo_client
    if name == 'demo': return load_demo_client(ROOT / 'data')
    from bench_fit import other_clients
    return simulate_demo_client(**other_clients()[name])

@dataclasses.dataclass
class Shear:
    "x[a] = y[a] + softplus(y[h] - level): the amplitudes' logs `a` sampled as log-heights at a typical input (Jacobian 1)."
    amplitude: np.ndarray
    half: np.ndarray
    level: np.ndarray

    def to_x(self, y):
        x = np.array(y, dtype=float, copy=True); x[..., self.amplitude] += np.logaddexp(0, x[..., self.half] - self.level); return x

    def to_y(self, x):
        y = np.array(x, dtype=float, copy=True); y[..., self.amplitude] -= np.logaddexp(0, y[..., self.half] - self.level); return y

    def wrap(self, compiled):
        "`compiled` sampling `y`, as `Decorrelation.wrap` samples its `z`."
        import numba
        from pymc_toolkit.sampling import volume_preserving
        amplitude, half, level = self.amplitude.copy(), self.half.copy(), self.level.copy()

        @numba.njit
        def to_x(y):
            x = y.copy()
            for k in range(len(amplitude)):
                v = y[half[k]] - level[k]
                x[amplitude[k]] += max(v, 0.0) + np.log1p(np.exp(-abs(v)))
            return x

        @numba.njit
        def pull_back(y, grad_x, grad):  # d x[a] / d y[h] is the logistic function of y[h] - level
            for k in range(len(amplitude)): grad[half[k]] += grad_x[amplitude[k]] / (1.0 + np.exp(level[k] - y[half[k]]))

        return volume_preserving(compiled, to_x, pull_back, self.to_y)

def typical_inputs(mmm) -> np.ndarray:
    "Each channel's mean input over the weeks it spent, in the model's units (1 if it never spent): where its curve is pinned down."
    scaled = mmm.model['channel_data'].eval() / mmm.model['channel_scale'].eval()
    return np.array([col[col > 0].mean() if (col > 0).any() else 1.0 for col in scaled.T])

def starting_at(compiled, draws):
    "`compiled` with each chain starting at a random one of `draws`, as the engine's second stage does."
    return dataclasses.replace(compiled, initial_point_func=lambda s: np.ascontiguousarray(draws[np.random.default_rng(s).integers(len(draws))]))

def run(compiled, free, seed, tune, draws, target_accept) -> tuple[np.ndarray, dict]:
    "One nutpie run, 4 chains on 2 cores: its unconstrained draws and its numbers."
    import arviz as az, nutpie
    start = time.perf_counter()
    trace = nutpie.sample(compiled, chains=4, tune=tune, draws=draws, seed=seed, cores=2, save_warmup=False,
                          store_unconstrained=True, progress_bar=False, target_accept=target_accept)
    seconds, post, stats = time.perf_counter() - start, trace.posterior.to_dataset()[free], trace.sample_stats
    ess, tail, r_hat = az.ess(post), az.ess(post, method='tail'), az.rhat(post)
    u = stats['unconstrained_draw'].to_numpy()
    return u.reshape(-1, u.shape[-1]), {'s': seconds, 'steps': float(stats['n_steps'].mean()), 'div': int(stats['diverging'].sum()),
                                        'r_hat': max(float(r_hat[v].max()) for v in free), 'ess': min(float(ess[v].min()) for v in free),
                                        'tail': min(float(tail[v].min()) for v in free)}

def curvature(compiled, draws, k: int = 6, seed: int = 0) -> list[float]:
    "The largest eigenvalue of the negative Hessian at `k` of `draws`, each coordinate scaled by the draws' spread (1: as wide as the posterior)."
    from pymc_toolkit.sampling import logp_at
    sd, rng, out = draws.std(0), np.random.default_rng(seed), []
    grad = lambda x: np.array(logp_at(compiled, np.ascontiguousarray(x))[2], copy=True)
    for j in rng.integers(len(draws), size=k):
        x, n, h = draws[j], draws.shape[1], 1e-5
        H = np.column_stack([(grad(x + h * sd[i] * e) - grad(x - h * sd[i] * e)) / (2 * h) for i, e in enumerate(np.eye(n))])
        H = -(H * sd[:, None]); out.append(float(np.linalg.eigvalsh((H + H.T) / 2)[-1]))
    return out

def one(client: str, seed: int, engine_targets: list[float], sheared_targets: list[float], show_curvature: bool) -> list[dict]:
    from pymc_toolkit.pymc_model import PymcModel
    from pymc_toolkit.sampling import Decorrelation, compile_for_nutpie, compile_options, decorrelated_rows, reproducible_numba
    demo = load_client(client); t = demo.truth
    model = PymcModel(demo.data, t['target'], t['date_column'], t['channels'], t['controls'], lag_max=4, saturation='michaelis_menten',
                      time_varying_media=True, random_seed=seed)
    mmm = model.built_mmm(); sampling_model = mmm.sampling_model()
    free = [rv.name for rv in sampling_model.free_RVs]
    with reproducible_numba(): compiled = compile_for_nutpie(sampling_model, **compile_options(sampling_model))
    rows = []
    pilot_x, p = run(compiled, free, seed, 700, 150, 0.9)
    dec = Decorrelation.from_draws(pilot_x, decorrelated_rows(compiled, (), pilot_x))
    for target in engine_targets:
        main_x, m = run(dec.wrap(starting_at(compiled, pilot_x)), free, seed, 150, 1000, target)
        rows.append({'client': client, 'seed': seed, 'coordinates': f"the engine's ({target})", 'pilot_s': p['s'], **m})
    if show_curvature:
        x = dec.to_x(main_x)
        z = dec.to_z(x.copy())
        print(f"{client}, seed {seed}: stiffest local curvature at 6 posterior draws, decorrelated coordinates scaled by their spread: "
              + ', '.join(f'{c:.0f}' for c in curvature(dec.wrap(compiled), z)) + " (1: as wide as the posterior; the step size must fit 1/sqrt of it)", flush=True)
    names, slices, _ = compiled.shape_info
    where = dict(zip(names, slices))
    a, h = where['saturation_alpha_log__'], where['saturation_lam_log__']
    shear = Shear(np.arange(a.start, a.stop), np.arange(h.start, h.stop), np.log(typical_inputs(mmm)))
    sheared = shear.wrap(compiled)
    pilot_y, p = run(sheared, free, seed, 700, 150, 0.9)
    dec = Decorrelation.from_draws(pilot_y, decorrelated_rows(compiled, (), pilot_y))
    for target in sheared_targets:
        _, m = run(dec.wrap(starting_at(sheared, pilot_y)), free, seed, 150, 1000, target)
        rows.append({'client': client, 'seed': seed, 'coordinates': f'sheared ({target})', 'pilot_s': p['s'], **m})
    return rows

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--clients', nargs='+', default=['demo'])
    ap.add_argument('--seeds', nargs='+', type=int, default=[1])
    ap.add_argument('--engine-targets', nargs='+', type=float, default=[0.97, 0.95], help="the engine's second stage (0.97: its own)")
    ap.add_argument('--sheared-targets', nargs='+', type=float, default=[0.95, 0.9])
    args = ap.parse_args()
    print('| client, seed | coordinates (target_accept) | pilot s | second stage s | steps per draw | divergences | max r_hat | min bulk / tail ESS |')
    print('|---|---|---|---|---|---|---|---|')
    for seed in args.seeds:
        for client in args.clients:
            for r in one(client, seed, args.engine_targets, args.sheared_targets, show_curvature=client == 'demo' and seed == args.seeds[0]):
                met = r['div'] == 0 and r['r_hat'] < 1.01 and min(r['ess'], r['tail']) >= 400
                print(f"| {r['client']}, {r['seed']} | {r['coordinates']} | {r['pilot_s']:.1f} | {r['s']:.1f} | {r['steps']:.0f} | {r['div']} | "
                      f"{r['r_hat']:.4f} | {r['ess']:.0f} / {r['tail']:.0f}{' (met)' if met else ''} |", flush=True)

if __name__ == '__main__':
    main()
