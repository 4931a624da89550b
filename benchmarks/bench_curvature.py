#!/usr/bin/env python
"""Benchmark (experiments left out of the package): why the engine's decorrelated stage takes ~150 leapfrog steps per
draw on the demo client, and what two nonlinear changes of coordinates do to it.

It measures the local curvature of the posterior at posterior draws (the largest eigenvalue of the negative Hessian, in
the decorrelated coordinates scaled by the posterior spread) and whether its stiffest direction is the gradient of the
fit's mean level (the weekly mean of `mu`), then runs the engine's two stages by hand (a pilot of 700 tuning steps and
150 draws at target_accept 0.9, then 150 tuning steps and 1000 draws decorrelated from the pilot's draws), 4 chains on 2
cores, no retry, in three coordinates:

- the engine's own (at each `--engine-targets`; the engine runs 0.97);
- sheared (`--sheared-targets`): each Michaelis-Menten amplitude sampled as the curve's log-height at the channel's
  typical input, `y = log alpha - softplus(log lam - log c)` (Jacobian 1, the same posterior);
- mean level (`--mean-level-targets`): the intercept sampled as the log of the fit's mean level, `v = log(intercept + m)`
  with `m` the weekly mean of everything else in `mu` (its own compiled function and gradient, called beside the
  model's; the Jacobian's log-determinant `v - log intercept` added).

It prints nutpie's sampling time, steps per draw, divergences, max r_hat and min bulk / tail ESS of each.

Run by hand, not in CI (about 1-2 min per client and seed on 2 cores):

    .venv/bin/python benchmarks/bench_curvature.py                                   # the demo client, seed 1, and its curvature
    .venv/bin/python benchmarks/bench_curvature.py --clients demo shop2 demo_plan_seed7 big_3y_8ch small_noisy_4ch --seeds 1 2
"""
import argparse, dataclasses, sys, time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'benchmarks'))

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
    from pymc_toolkit.sampling import SharedSampling
    return dataclasses.replace(compiled, initial_point_func=SharedSampling()._start_points(draws))

def run(compiled, free, seed, tune, draws, target_accept) -> tuple[np.ndarray, dict]:
    "One nutpie run, 4 chains on 2 cores: its unconstrained draws, its seconds, steps per draw and the toolkit's diagnostics."
    import nutpie
    from pymc_toolkit.sampling import sampler_diagnostics
    start = time.perf_counter()
    trace = nutpie.sample(compiled, chains=4, tune=tune, draws=draws, seed=seed, cores=2, save_warmup=False,
                          store_unconstrained=True, progress_bar=False, target_accept=target_accept)
    seconds, stats = time.perf_counter() - start, trace.sample_stats
    u = stats['unconstrained_draw'].to_numpy()
    return u.reshape(-1, u.shape[-1]), {'s': seconds, 'steps': float(stats['n_steps'].mean()), **sampler_diagnostics(trace, free)}

def rest_of_mean_level(model, compiled):
    "PyTensor's numba function of the unconstrained vector: the weekly mean of `mu` less the intercept, and its gradient."
    import pytensor, pytensor.tensor as pt
    from pytensor.graph.rewriting.utils import rewrite_graph
    from pymc.pytensorf import join_nonshared_inputs
    from pymc_toolkit.sampling import reproducible_numba
    values = {model.rvs_to_values[rv].name: model.rvs_to_values[rv] for rv in model.free_RVs}
    names, slices, _ = compiled.shape_info
    order = [values[name] for name, s in zip(names, slices) if s.stop <= compiled.n_dim]
    mu, intercept = [v.values if hasattr(v, 'values') else v for v in model.replace_rvs_by_values([model['mu'], model['intercept_contribution']])]
    [rest], joined = join_nonshared_inputs(model.initial_point(), [pt.mean(mu) - intercept], order)
    rest = rewrite_graph(rest, include=('lower_xtensor', 'canonicalize'))  # PyMC-Marketing's graph holds xtensor operations
    with reproducible_numba(): return pytensor.function([joined], [rest, pytensor.grad(rest, joined)], mode='NUMBA')

def mean_level(compiled, rest_fn, row: int):
    "`compiled` sampling `v = log(intercept + rest)` in place of the intercept's log at `row` (not volume-preserving: its log-determinant is added)."
    import numba
    from pymc_toolkit.sampling import _EXPAND_FUNC, _LOGP_FUNC, by_address
    n, rest = compiled.n_dim, by_address(rest_fn.vm.jit_fn)
    logp_x, expand_x = _LOGP_FUNC(compiled.compiled_logp_func.address), _EXPAND_FUNC(compiled.compiled_expand_func.address)

    @numba.njit
    def to_x(v):  # x, the rest of the level, its gradient, exp(v[row]); x[row] is -inf where the intercept would not be positive
        x = v.copy()
        res = rest((x,))
        m, u = res[0][()], np.exp(v[row])
        x[row] = np.log(u - m) if u > m else -np.inf
        return x, m, res[1], u

    @numba.cfunc(compiled.compiled_logp_func._sig)
    def logp_v(dim, v_, grad_, logp_, user_data_):
        if dim != n: return -1
        v, grad = numba.carray(v_, (n,)), numba.carray(grad_, (n,))
        x, m, grad_m, u = to_x(v)
        if not np.isfinite(x[row]):
            logp_[0] = -np.inf
            return 4
        grad_x = np.empty(n)
        code = logp_x(dim, x.ctypes, grad_x.ctypes, logp_, user_data_)
        logp_[0] += v[row] - x[row]  # log |d x[row] / d v[row]|
        c = grad_x[row] - 1.0
        for j in range(n): grad[j] = grad_x[j] - c * grad_m[j] / (u - m)
        grad[row] = c * u / (u - m) + 1.0
        return code

    @numba.cfunc(compiled.compiled_expand_func._sig)
    def expand_v(dim, expanded, v_, out_, user_data_):
        if dim != n: return -1
        return expand_x(dim, expanded, to_x(numba.carray(v_, (n,)))[0].ctypes, out_, user_data_)

    def to_v(x):
        v = np.array(x, dtype=float, copy=True); v[row] = np.log(np.exp(x[row]) + float(rest_fn(x)[0])); return v
    start = compiled.initial_point_func
    return dataclasses.replace(compiled, compiled_logp_func=logp_v, compiled_expand_func=expand_v,
                               initial_point_func=lambda seed: np.ascontiguousarray(to_v(start(seed))))

def curvature(compiled, draws, level, k: int = 6, seed: int = 0) -> list[tuple[float, float]]:
    "At `k` of `draws` (in `compiled`'s coordinates, each scaled by its spread: 1 is as wide as the posterior): the negative Hessian's largest eigenvalue and the cosine of its direction with the gradient of `level` (a function of a draw)."
    from pymc_toolkit.sampling import logp_at
    sd, rng, out, h = draws.std(0), np.random.default_rng(seed), [], 1e-5
    grad = lambda z: np.array(logp_at(compiled, np.ascontiguousarray(z))[2], copy=True)
    for j in rng.integers(len(draws), size=k):
        z, steps = draws[j], [h * s * e for s, e in zip(sd, np.eye(draws.shape[1]))]
        H = -np.column_stack([(grad(z + d) - grad(z - d)) / (2 * h) for d in steps]) * sd[:, None]
        values, vectors = np.linalg.eigh((H + H.T) / 2)
        g = np.array([(level(z + d) - level(z - d)) / (2 * h) for d in steps])
        out.append((float(values[-1]), float(abs(vectors[:, -1] @ g) / np.linalg.norm(g))))
    return out

def two_stages(compiled, free, seed, targets, label: str) -> tuple[list[dict], dict]:
    "The engine's two stages by hand on `compiled` (sampling coordinates of its own): one pilot, its decorrelation, a second stage at each target."
    from pymc_toolkit.sampling import Decorrelation, decorrelated_rows
    if not targets: return [], {}
    pilot, p = run(compiled, free, seed, 700, 150, 0.9)
    dec = Decorrelation.from_draws(pilot, decorrelated_rows(compiled, (), pilot))
    rows, last = [], {}
    for target in targets:
        draws, m = run(dec.wrap(starting_at(compiled, pilot)), free, seed, 150, 1000, target)
        rows.append({'seed': seed, 'coordinates': f'{label} ({target})', 'pilot_s': p['s'], **m})
        last = {'draws': draws, 'decorrelation': dec}
    return rows, last

def one(client: str, seed: int, engine_targets: list[float], sheared_targets: list[float], level_targets: list[float],
        show_curvature: bool) -> list[dict]:
    from pymc_toolkit.pymc_model import PymcModel
    from pymc_toolkit.sampling import baseline_rows, compile_for_nutpie, compile_options, reproducible_numba
    from bench_fit import benchmark_client
    demo = benchmark_client(client); t = demo.truth
    model = PymcModel(demo.data, t['target'], t['date_column'], t['channels'], t['controls'], lag_max=4, saturation='michaelis_menten',
                      time_varying_media=True, random_seed=seed)
    mmm = model.built_mmm(); sampling_model = mmm.sampling_model()
    free = [rv.name for rv in sampling_model.free_RVs]
    with reproducible_numba(): compiled = compile_for_nutpie(sampling_model, **compile_options(sampling_model))
    rows, last = two_stages(compiled, free, seed, engine_targets, "the engine's")
    row = baseline_rows(compiled)[0]
    rest_fn = rest_of_mean_level(sampling_model, compiled) if level_targets or (show_curvature and last) else None
    if show_curvature and last:  # the last second stage's draws, in its (decorrelated) coordinates
        dec = last['decorrelation']
        level = lambda z: (lambda x: float(rest_fn(x)[0]) + np.exp(x[row]))(dec.to_x(z))
        found = curvature(dec.wrap(compiled), last['draws'], level)
        print(f"{client}, seed {seed}, at 6 posterior draws (decorrelated coordinates, each scaled by its spread): the stiffest curvature "
              + ', '.join(f'{c:.0f}' for c, _ in found) + " (1: as wide as the posterior; a step must fit 1/sqrt of it); the cosine of its "
              "direction with the mean level's gradient " + ', '.join(f'{cos:.3f}' for _, cos in found), flush=True)
    if sheared_targets:
        where = dict(zip(*compiled.shape_info[:2]))
        a, h = where['saturation_alpha_log__'], where['saturation_lam_log__']
        sheared = Shear(np.arange(a.start, a.stop), np.arange(h.start, h.stop), np.log(typical_inputs(mmm))).wrap(compiled)
        rows += two_stages(sheared, free, seed, sheared_targets, 'sheared')[0]
    if level_targets:
        leveled = mean_level(compiled, rest_fn, row)
        rows += two_stages(leveled, free, seed, level_targets, 'mean level')[0]
    return [{'client': client, **r} for r in rows]

def main():
    from pymc_toolkit.sampling import convergence_problems
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--clients', nargs='+', default=['demo'])
    ap.add_argument('--seeds', nargs='+', type=int, default=[1])
    ap.add_argument('--engine-targets', nargs='*', type=float, default=[0.97, 0.95], help="the engine's second stage (0.97: its own)")
    ap.add_argument('--sheared-targets', nargs='*', type=float, default=[0.95, 0.9])
    ap.add_argument('--mean-level-targets', nargs='*', type=float, default=[0.97, 0.9])
    args = ap.parse_args()
    print('| client, seed | coordinates (target_accept) | pilot s | second stage s | steps per draw | divergences | max r_hat | min bulk / tail ESS |')
    print('|---|---|---|---|---|---|---|---|')
    for seed in args.seeds:
        for client in args.clients:
            for r in one(client, seed, args.engine_targets, args.sheared_targets, args.mean_level_targets, show_curvature=client == 'demo' and seed == args.seeds[0]):
                met = not convergence_problems(r)
                print(f"| {r['client']}, {r['seed']} | {r['coordinates']} | {r['pilot_s']:.1f} | {r['s']:.1f} | {r['steps']:.0f} | {r['divergences']} | "
                      f"{r['max_r_hat']:.4f} | {r['min_ess_bulk']:.0f} / {r['min_ess_tail']:.0f}{' (met)' if met else ''} |", flush=True)

if __name__ == '__main__':
    main()
