#!/usr/bin/env python
"""Benchmark: fit the demo client with plain PyMC-Marketing (its defaults) and with pymc_toolkit (its defaults),
side by side in one run, and print wall time, convergence diagnostics, ESS per second, peak memory and ratios.

Run by hand, not in CI (several minutes on 2 cores):

    .venv/bin/python benchmarks/bench_fit.py                         # plain default sampler vs toolkit default
    .venv/bin/python benchmarks/bench_fit.py --toolkit-samplers nutpie numpyro pymc   # choose the default sampler
    .venv/bin/python benchmarks/bench_fit.py --mode holdout          # 3-horizon holdout fleet vs one fit and 3 independent fits:
                                                                      # cold, warm (decorrelated intercept, target_accept 0.97),
                                                                      # + compiled ahead, + stopping once converged (the default)
    .venv/bin/python benchmarks/bench_fit.py --mode holdout --new-data   # same, as for a client whose data changed since the last run
    .venv/bin/python benchmarks/bench_fit.py --guide-priors          # also the toolkit with the guide's exact priors
    .venv/bin/python benchmarks/bench_fit.py --mode clients --seeds 1 2 3 4   # house defaults on clients unlike the demo client
    .venv/bin/python benchmarks/bench_fit.py --mode budget             # budget optimization on the fitted demo client, and
                                                                      # the budget fleet (no refits) against one fit
    .venv/bin/python benchmarks/bench_fit.py --mode calibration      # lift tests: toolkit without / with them, plain PyMC-Marketing
                                                                      # with them, on the confounded client and shop2
    .venv/bin/python benchmarks/bench_fit.py --mode adaptation --seeds 1 2    # the toolkit's decorrelation vs nutpie's low_rank,
                                                                      # on the demo client and the clients above (no retry)
    .venv/bin/python benchmarks/bench_fit.py --mode geo              # geo clients: toolkit vs plain PyMC-Marketing MMM(dims=("geo",))
                                                                      # defaults (nutpie), bundled 8x104 and Meridian-sized 20x156;
    .venv/bin/python benchmarks/bench_fit.py --mode geo --geo-clients big   # 50 geos x 208 weeks x 2 channels: memory
    .venv/bin/python benchmarks/bench_fit.py --mode geo --geo-clients geo --geo-variants toolkit --geo-seeds 1 2 3 4 5 6
                                                                      # coverage: the bundled client's design at other seeds
    .venv/bin/python benchmarks/bench_fit.py --mode forward          # computations from a fitted posterior (deterministics,
                                                                      # predictions, curves, budget plans): PyTensor's default
                                                                      # numba, as plain PyMC-Marketing runs them, vs the toolkit
                                                                      # (Python back-end for the draws); empty compile cache, on disk,
                                                                      # then on a fit one week shorter (new data)
    .venv/bin/python benchmarks/bench_fit.py --mode levers --seeds 1 2   # the demo fit with each lever issue #19 names for a 20 s
                                                                      # fit: the stopping rule, a shorter pilot, both, fewer HSGP
                                                                      # basis functions; each fit in its own process, its model
                                                                      # compiled there first (on disk), compared with the default
    .venv/bin/python benchmarks/bench_fit.py --mode compile          # compiling the demo client's model for nutpie: nutpie's own
                                                                      # compile_pymc_model vs the toolkit's compile_for_nutpie;
                                                                      # empty compile cache, on disk, then new data

Each configuration runs in its own process, so that peak memory (max RSS of the process and the chain processes
it starts) and compilation are measured per configuration. PyTensor keeps numba compilations on disk, keyed by the
graph and its constants (the frozen data): a model fitted before on the same data compiles in ~5 s, on new data in
~12 s. `--new-data` changes one target value by a relative 1e-9 in every configuration, so that each compiles as a
client whose data were refreshed does. Results are also written as JSON to
benchmarks/results/ (git-ignored).
"""
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

def run_child(kind: str, args: dict, env_extra: dict | None = None) -> dict:
    "Run one configuration in a fresh process (with `env_extra` in its environment) and return its measurements."
    cmd = [sys.executable, __file__, '--child', json.dumps({'kind': kind, **args})]
    # As a user's shell has it: no BLAS thread limits (the toolkit sets its own; plain PyMC-Marketing does not).
    env = {k: v for k, v in os.environ.items() if k not in ('OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'OMP_NUM_THREADS')}
    env.update(env_extra or {})
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])

def diagnostics(idata, var_names, wall):
    from pymc_toolkit.sampling import sampler_diagnostics
    d = sampler_diagnostics(idata, var_names)
    return {**d, 'wall_s': wall, 'min_ess_bulk_per_s': d['min_ess_bulk'] / wall}

def peak_memory_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024

def truth_check(contrib_draws, truth) -> dict:
    "Is each of the 5 biggest true channels' total contribution inside its 94% interval?"
    totals = contrib_draws.sum('date')
    top5 = sorted(truth['channels'], key=lambda c: -truth['channel'][c]['total_contribution'])[:5]
    out = {}
    for c in top5:
        lo, hi = totals.sel(channel=c).quantile([0.03, 0.97]).values
        t = truth['channel'][c]['total_contribution']
        out[c] = {'true': t, 'mean': float(totals.sel(channel=c).mean()), 'low': float(lo), 'high': float(hi), 'inside': bool(lo <= t <= hi)}
    return out

def benchmark_client(name: str | None = None):
    "A client of the benchmarks: the bundled demo client (None or 'demo'), or one of `other_clients` simulated."
    from pymc_toolkit.demo_data import load_demo_client, simulate_demo_client
    return load_demo_client(ROOT / 'data') if name in (None, 'demo') else simulate_demo_client(**other_clients()[name])

def other_clients() -> dict:
    "Simulated clients built unlike the demo client, to check the house defaults away from it."
    from pymc_toolkit.demo_data import SECOND_CLIENT, DEMO_CHANNELS, ChannelPlan
    return {'shop2': SECOND_CLIENT, 'demo_plan_seed7': dict(seed=7),
            'big_3y_8ch': dict(seed=3, n_weeks=156, baseline=300_000.0, noise_sigma=15_000.0, channels=DEMO_CHANNELS[:8]),
            'small_noisy_4ch': dict(seed=5, n_weeks=120, baseline=20_000.0, noise_sigma=3_000.0, event_effect=1_000.0,
                                    email_effect=0.01, channels=(ChannelPlan('tv', 5_000, 0.3, 1.2), ChannelPlan('search', 2_000, 1.0, 2.5),
                                                                 ChannelPlan('social', 1_500, 0.8, 0.8), ChannelPlan('display', 800, 0.5, 0.4)))}

GEO_CLIENTS = {'geo': dict(seed=7, n_geos=8, n_weeks=104), 'meridian': dict(seed=11, n_geos=20, n_weeks=156),
               'big': dict(seed=13, n_geos=50, n_weeks=208, channels='2')}

def geo_client_settings(name: str) -> dict:
    "A geo client of the benchmark by name: one of GEO_CLIENTS, or 'sim<seed>' (the bundled client's design, another seed)."
    return dict(seed=int(name[3:]), n_geos=8, n_weeks=104) if name.startswith('sim') else GEO_CLIENTS[name]

def geo_child(spec: dict) -> dict:
    "One geo fit: the toolkit's defaults, or plain PyMC-Marketing's MMM(dims=('geo',)) defaults with nutpie; truth coverage in total and per geo."
    from pymc_toolkit.demo_data import GEO_CHANNELS, simulate_geo_client
    settings = dict(geo_client_settings(spec['geo_client']))
    if settings.pop('channels', None): settings['channels'] = GEO_CHANNELS[:2]
    demo = simulate_geo_client(**settings)
    t, data = demo.truth, demo.data
    start = time.perf_counter()
    if spec['variant'] == 'plain':
        from pymc_marketing.mmm import MMM, GeometricAdstock, MichaelisMentenSaturation
        X = data.drop(columns=t['target']).copy()
        for c in t['controls']: X[c] = X[c] / X[c].abs().max()
        mmm = MMM(date_column=t['date_column'], target_column=t['target'], channel_columns=t['channels'], control_columns=t['controls'],
                  adstock=GeometricAdstock(l_max=4), saturation=MichaelisMentenSaturation(), dims=('geo',))
        mmm.fit(X, data[t['target']], chains=spec['chains'], draws=spec['draws'], tune=spec['tune'], random_seed=spec['seed'],
                nuts_sampler='nutpie', progressbar=False)
        wall = time.perf_counter() - start
        res = diagnostics(mmm.idata, [rv.name for rv in mmm.model.free_RVs], wall)
        contrib = mmm.idata.posterior.to_dataset()['channel_contribution'] * mmm.scalers['_target']   # (chain, draw, date, geo, channel)
    else:
        from pymc_toolkit.pymc_model import PymcModel
        model = PymcModel(data, t['target'], t['date_column'], t['channels'], t['controls'], geo_column='geo',
                          chains=spec['chains'], draws=spec['draws'], tune=spec['tune'], random_seed=spec['seed']).fit()
        wall = time.perf_counter() - start
        res = {**diagnostics(model.mmm.idata, model.free_parameters(), wall), 'retried_for': model.diagnostics['retried_for']}
        contrib = model.contribution_draws(by_geo=True)
    totals = contrib.sum('date')
    inside, position, hits = {}, {}, []
    for c in t['channels']:
        spend = sum(t['geo_channel'][g][c]['total_spend'] for g in t['geos'])
        roas = (totals.sel(channel=c).sum('geo') / spend).to_numpy().ravel()   # the channel's total ROAS, draw by draw
        lo, hi = np.quantile(roas, [0.03, 0.97])
        inside[c] = bool(lo <= t['channel'][c]['roas'] <= hi)
        position[c] = float(np.mean(roas < t['channel'][c]['roas']))
        for g in t['geos']:
            r = (totals.sel(channel=c, geo=g) / t['geo_channel'][g][c]['total_spend']).to_numpy().ravel()
            lo, hi = np.quantile(r, [0.03, 0.97])
            hits.append(bool(lo <= t['geo_channel'][g][c]['roas'] <= hi))
    return {**res, 'peak_mb': peak_memory_mb(), 'total_inside': inside, 'truth_quantile': position, 'geo_coverage': float(np.mean(hits))}

FORWARD_STEPS = ('deterministics', 'in-sample predictive', '4 weeks ahead', 'saturation curves', 'adstock curves', 'budget plan',
                 'budget fleet plan')

def forward_fit_child(spec: dict) -> dict:
    "Fit the demo client on all but its last `spec['drop']` weeks (toolkit defaults) and save the fit to `spec['folder']`."
    from pymc_toolkit.demo_data import load_demo_client
    from pymc_toolkit.pymc_model import PymcModel
    demo = load_demo_client(ROOT / 'data'); t = demo.truth
    model = PymcModel(demo.data.iloc[:-spec['drop']], t['target'], t['date_column'], t['channels'], t['controls'], time_varying_media=True,
                      chains=spec['chains'], draws=spec['draws'], tune=spec['tune'], random_seed=spec['seed']).fit()
    model.save(spec['folder'])
    return {'fit_s': model.fit_seconds}

def compile_child(spec: dict) -> dict:
    "Seconds to compile the demo client's model (all but its last `spec['drop']` weeks) for nutpie, by nutpie or as the toolkit does; a call's cost."
    import nutpie
    from pymc_toolkit.demo_data import load_demo_client
    from pymc_toolkit.pymc_model import PymcModel
    from pymc_toolkit.sampling import compile_for_nutpie, compile_options, logp_at, reproducible_numba
    demo = load_demo_client(ROOT / 'data'); t = demo.truth
    built = PymcModel(demo.data.iloc[:-spec['drop']], t['target'], t['date_column'], t['channels'], t['controls'],
                      time_varying_media=True).sampling_model()
    compile_model = nutpie.compile_pymc_model if spec['compiler'] == 'nutpie' else compile_for_nutpie
    start = time.perf_counter()
    with reproducible_numba(): compiled = compile_model(built, **compile_options(built))
    seconds = time.perf_counter() - start
    x = np.random.default_rng(0).normal(scale=0.3, size=compiled.n_dim)
    code, logp, grad = logp_at(compiled, x); start = time.perf_counter()
    for _ in range(20000): logp_at(compiled, x)   # as the tests call it: a few µs of array and pointer set-up in each call
    return {'compile_s': seconds, 'call_us': (time.perf_counter() - start) / 20000 * 1e6, 'logp': logp, 'grad_norm': float(np.linalg.norm(grad))}

def forward_child(spec: dict) -> dict:
    "Seconds of each computation from the saved fit: with PyTensor's default back-end (numba) throughout, or as the toolkit runs it."
    import pymc as pm
    from pymc_toolkit import sampling
    if spec['backend'] == 'numba': sampling.FORWARD_MODE = 'NUMBA'   # PyTensor's default, as plain PyMC-Marketing compiles
    from pymc_toolkit.budget import PlanWindow, optimize_budget
    from pymc_toolkit.demo_data import load_demo_client
    from pymc_toolkit.pymc_model import PymcModel
    from pymc_toolkit.reports import adstock_decay, response_curves
    data = load_demo_client(ROOT / 'data').data
    model, ahead = PymcModel.load(spec['folder']), data.iloc[len(data) - spec['drop']:][:4]   # the 4 weeks after the fit's
    built = model.sampling_model()
    free = model.mmm.idata.posterior.to_dataset()[[rv.name for rv in built.free_RVs]]
    def insample():
        if 'posterior_predictive' in model.mmm.idata.children: del model.mmm.idata['posterior_predictive']
        model._draw_y_fit()
    steps = dict(zip(FORWARD_STEPS, (
        lambda: pm.compute_deterministics(free, model=built, progressbar=False, compile_kwargs=sampling.forward_kwargs()),
        insample, lambda: model.predict_draws(ahead), lambda: response_curves(model), lambda: adstock_decay(model),
        lambda: optimize_budget(model),   # a person's plan: PyTensor's default (numba) in both columns
        lambda: optimize_budget(model, window=PlanWindow(model, compile_kwargs=sampling.forward_kwargs())))))   # as the budget fleet plans
    seconds = {}
    for name, step in steps.items():
        start = time.perf_counter(); step(); seconds[name] = time.perf_counter() - start
    return {'seconds': seconds, 'mode': sampling.FORWARD_MODE}

LEVERS = {'default': {}, 'stopping': {'stop': True}, 'pilot_300': {'pilot': 300}, 'stopping_pilot_300': {'stop': True, 'pilot': 300},
          'hsgp_m20': {'m': 20}}  # the levers of issue #19 measured on the demo fit (`--mode levers`)

def lever_child(spec: dict) -> dict:
    "The demo client's fit as a user runs it (`fit()`, retry and posterior predictive included) with one lever, its model compiled on disk first: wall, diagnostics, posterior."
    from pymc_toolkit.priors import hsgp_config
    from pymc_toolkit.pymc_model import PymcModel
    from pymc_toolkit.sampling import SharedSampling, compile_for_nutpie, compile_options, convergence_problems, reproducible_numba
    lever, demo = LEVERS[spec['lever']], benchmark_client()
    t = demo.truth

    class ShortPilot(SharedSampling):  # a cold fit's pilot of `lever['pilot']` tuning steps instead of the engine's 700
        def pilot_tune(self, tune: int) -> int: return min(super().pilot_tune(tune), lever['pilot'])

    priors = {'media_tvp_config': hsgp_config(len(demo.data)).model_copy(update={'m': lever['m']})} if 'm' in lever else None
    model = PymcModel(demo.data, t['target'], t['date_column'], t['channels'], t['controls'], lag_max=4, saturation='michaelis_menten',
                      time_varying_media=True, chains=spec['chains'], draws=spec['draws'], tune=spec['tune'], random_seed=spec['seed'],
                      model_priors=priors)
    built = model.sampling_model()  # compiled once as the engine compiles it, so that the fit finds its compilation on disk
    with reproducible_numba(): compile_for_nutpie(built, **compile_options(built))
    engine = (ShortPilot if 'pilot' in lever else SharedSampling)(stop_when_converged=lever.get('stop', False))
    start = time.perf_counter(); model.fit(shared=engine); wall = time.perf_counter() - start
    totals = model.contribution_draws().sum('date').stack(sample=('chain', 'draw'))
    ls = model.mmm.idata.posterior['media_temporal_latent_multiplier_raw_ls'].to_numpy().ravel()
    d = model.diagnostics
    return {'wall_s': wall, **{k: d[k] for k in ('draws', 'divergences', 'max_r_hat', 'min_ess_bulk', 'min_ess_tail')},
            'retried_for': d['retried_for'], 'problems': convergence_problems(d), 'ls_quantiles': np.quantile(ls, [0.05, 0.5, 0.95]).tolist(),
            'channel_mean': totals.mean('sample').to_series().to_dict(), 'channel_sd': totals.std('sample').to_series().to_dict()}

def within_mc_error(a: dict, b: dict) -> float:
    "The largest |difference| of two fits' channel totals in Monte Carlo standard errors, each taken as sd / sqrt(the fit's min bulk ESS): at least the true error, so a large value is a real difference."
    se = lambda r, c: r['channel_sd'][c] ** 2 / r['min_ess_bulk']
    return max(abs(a['channel_mean'][c] - b['channel_mean'][c]) / np.sqrt(se(a, c) + se(b, c)) for c in a['channel_mean'])

def child(spec: dict) -> dict:
    if spec['kind'] == 'geo': return geo_child(spec)
    if spec['kind'] == 'lever': return lever_child(spec)
    if spec['kind'] == 'forward_fit': return forward_fit_child(spec)
    if spec['kind'] == 'forward': return forward_child(spec)
    if spec['kind'] == 'compile': return compile_child(spec)
    if spec['kind'] == 'calibration': return calibration_child(spec)  # a client with experiments: toolkit without / with them, plain with them
    demo = benchmark_client(spec.get('client'))
    t = demo.truth
    if spec.get('new_data'):  # data no compilation on disk has seen: one target value moves by a relative ~1e-9
        demo.data.loc[demo.data.index[0], t['target']] *= 1 + 1e-9 * (1 + time.time_ns() % 997)
    chains, draws, tune, seed = spec['chains'], spec['draws'], spec['tune'], spec['seed']
    if spec['kind'] == 'plain':
        from pymc_marketing.mmm import MMM, GeometricAdstock, MichaelisMentenSaturation
        X = demo.data.drop(columns=t['target']).copy()
        for c in t['controls']: X[c] = X[c] / X[c].abs().max()   # the library leaves controls unscaled; its docs say to scale them
        start = time.perf_counter()
        mmm = MMM(date_column=t['date_column'], target_column=t['target'], channel_columns=t['channels'],
                  control_columns=t['controls'], adstock=GeometricAdstock(l_max=4), saturation=MichaelisMentenSaturation(),
                  time_varying_media=True)
        mmm.fit(X, demo.data[t['target']], chains=chains, draws=draws, tune=tune, random_seed=seed, progressbar=False,
                **({'nuts_sampler': spec['sampler']} if spec['sampler'] != 'default' else {}))
        wall = time.perf_counter() - start
        res = diagnostics(mmm.idata, [rv.name for rv in mmm.model.free_RVs], wall)
        contrib = mmm.idata.posterior.to_dataset()['channel_contribution'] * float(demo.data[t['target']].max())
    elif spec['kind'] == 'toolkit':
        from pymc_toolkit.pymc_model import PymcModel
        from pymc_toolkit.sampling import convergence_problems
        start = time.perf_counter()
        model = PymcModel(demo.data, t['target'], t['date_column'], t['channels'], t['controls'], lag_max=4,
                          saturation='michaelis_menten', time_varying_media=True, chains=chains, draws=draws, tune=tune,
                          random_seed=seed, priors_preset=spec.get('preset', 'house'),
                          **({'nuts_sampler': spec['sampler']} if spec['sampler'] != 'default' else {}))
        model.fit()
        wall = time.perf_counter() - start
        res = {**diagnostics(model.mmm.idata, model.free_parameters(), wall), 'retried_for': model.diagnostics['retried_for'],
               'problems': convergence_problems(model.diagnostics)}
        contrib = model.contribution_draws()
    elif spec['kind'] == 'budget':  # one fit, the optimization on it, then the budget fleet from an unfitted model
        from pymc_toolkit.pymc_model import PymcModel
        from pymc_toolkit.budget import optimize_budget, budget_fleet
        make = lambda: PymcModel(demo.data, t['target'], t['date_column'], t['channels'], t['controls'], time_varying_media=True,
                                 chains=chains, draws=draws, tune=tune, random_seed=seed)
        start = time.perf_counter(); model = make().fit(); one_fit = time.perf_counter() - start
        start = time.perf_counter(); plan = optimize_budget(model); optimization = time.perf_counter() - start
        start = time.perf_counter(); fleet = budget_fleet(make()); fleet_s = time.perf_counter() - start
        return {'one_fit_s': one_fit, 'optimization_s': optimization, 'fleet_s': fleet_s, 'peak_mb': peak_memory_mb(),
                'uplift': plan.summary()['uplift'], 'probability': plan.probability, 'at_bound': plan.summary()['at_bound'],
                'fleet_healthy': fleet.healthy, 'fleet_reasons': fleet.health_reasons}
    elif spec['kind'] == 'adaptation':  # one fit's sampling, by the toolkit's decorrelation or nutpie's own adaptation
        from pymc_toolkit.pymc_model import PymcModel
        from pymc_toolkit.sampling import SharedSampling
        model = PymcModel(demo.data, t['target'], t['date_column'], t['channels'], t['controls'], time_varying_media=True,
                          chains=chains, draws=draws, tune=tune, random_seed=seed, target_accept=spec['target_accept'])
        start = time.perf_counter()
        model.fit(shared=SharedSampling(adaptation=spec['adaptation']), retry=False, posterior_predictive=False)
        wall = time.perf_counter() - start
        sampling = float(model.mmm.idata.posterior.attrs['sampling_time'])  # nutpie's sampling, pilot included, compilation not
        d = model.diagnostics
        return {**{k: d[k] for k in ('divergences', 'max_r_hat', 'min_ess_bulk', 'min_ess_tail', 'target_accept')},
                'wall_s': wall, 'sampling_s': sampling, 'ess_per_sampling_s': d['min_ess_bulk'] / sampling}
    elif spec['kind'] in ('holdout_fleet', 'holdout_fleet_cold', 'holdout_fleet_no_ahead', 'holdout_fleet_all_draws', 'independent_fits', 'one_fit', 'one_fit_stopping'):
        from pymc_toolkit.pymc_model import PymcModel
        from pymc_toolkit.sampling import SharedSampling
        from pymc_toolkit.fleets import split_weeks
        if spec['kind'] == 'holdout_fleet_no_ahead': SharedSampling.prepare = lambda self, *models: None  # every horizon compiles when it starts
        model = PymcModel(demo.data, t['target'], t['date_column'], t['channels'], t['controls'], time_varying_media=True,
                          chains=chains, draws=draws, tune=tune, random_seed=seed)
        start = time.perf_counter()
        if spec['kind'].startswith('holdout_fleet'):
            fleet = model.holdout_fleet(holdouts=[4, 8, 12], warm_start=spec['kind'] != 'holdout_fleet_cold',
                                        stop_when_converged=spec['kind'] == 'holdout_fleet')
            wall = time.perf_counter() - start
            return {'wall_s': wall, 'peak_mb': peak_memory_mb(),
                    'horizons': {r.options['test_weeks']: {k: r.diagnostics[0][k] for k in ('fit_seconds', 'draws', 'stopped_early', 'tune', 'target_accept', 'warm_start', 'divergences', 'max_r_hat', 'min_ess_bulk', 'min_ess_tail', 'retried_for')}
                                 | {'test_mape': r.metrics['test']['mape'], 'compiled_ahead': r.options['compiled_ahead'], 'healthy': r.healthy} for r in fleet}}
        elif spec['kind'] == 'one_fit': model.with_config(split_weeks(model.config, 4, 4)[0]).fit()
        elif spec['kind'] == 'one_fit_stopping':  # the same fit, stopping once converged as the default fleet's horizons do
            fitted = model.with_config(split_weeks(model.config, 4, 4)[0]).fit(shared=SharedSampling(stop_when_converged=True))
            return {'wall_s': time.perf_counter() - start, 'peak_mb': peak_memory_mb(), 'draws': fitted.diagnostics['draws']}
        else:
            for h in (4, 8, 12): model.with_config(split_weeks(model.config, h, 4)[0]).fit()
        return {'wall_s': time.perf_counter() - start, 'peak_mb': peak_memory_mb()}
    return {**res, 'peak_mb': peak_memory_mb(), 'top5': truth_check(contrib, t)}

def calibration_client(name: str):
    "The demo simulator's client `name` ('confounded' or 'shop2'), its lift tests, channels and controls."
    from pymc_toolkit.demo_data import (CONFOUNDED_CLIENT, CONFOUNDED_LIFT_TESTS, SECOND_CLIENT, SECOND_CLIENT_LIFT_TESTS,
                                        simulate_demo_client, simulate_lift_tests)
    settings, tests = (CONFOUNDED_CLIENT, CONFOUNDED_LIFT_TESTS) if name == 'confounded' else (SECOND_CLIENT, SECOND_CLIENT_LIFT_TESTS)
    demo = simulate_demo_client(**settings)
    return demo, simulate_lift_tests(demo, **tests), [c.name for c in settings['channels']]

def calibration_child(spec: dict) -> dict:
    demo, tests, channels = calibration_client(spec['lift_client'])
    t, tv = demo.truth, spec['lift_client'] == 'shop2'   # shop2 as the demo batch fits it: time-varying media
    start = time.perf_counter()
    if spec['variant'] == 'pmm_calibrated':
        from pymc_marketing.mmm import MMM, GeometricAdstock, MichaelisMentenSaturation
        X = demo.data.drop(columns=t['target']).copy()
        for c in t['controls']: X[c] = X[c] / X[c].abs().max()
        mmm = MMM(date_column=t['date_column'], target_column=t['target'], channel_columns=channels, control_columns=t['controls'],
                  adstock=GeometricAdstock(l_max=4), saturation=MichaelisMentenSaturation(), time_varying_media=tv)
        mmm.build_model(X, demo.data[t['target']])
        lt = tests[['channel', 'x', 'delta_x', 'delta_y', 'sigma']].copy()
        if tv:  # the week of each test's middle day, as the toolkit passes it
            from pymc_toolkit.lift_tests import check_lift_tests, test_weeks
            lt['date'] = test_weeks(check_lift_tests(tests, channels, demo.data[t['date_column']]), demo.data[t['date_column']]).to_numpy()
        mmm.add_lift_test_measurements(lt)
        mmm.add_original_scale_contribution_variable(var=['channel_contribution'])
        mmm.fit(X, demo.data[t['target']], chains=spec['chains'], draws=spec['draws'], tune=spec['tune'], random_seed=spec['seed'], progressbar=False)
        wall = time.perf_counter() - start
        res = diagnostics(mmm.idata, [rv.name for rv in mmm.model.free_RVs], wall)
        contrib = mmm.idata.posterior.to_dataset()['channel_contribution_original_scale'].sum('date')
    else:
        from pymc_toolkit.pymc_model import PymcModel
        model = PymcModel(demo.data, t['target'], t['date_column'], channels, t['controls'], time_varying_media=tv,
                          lift_tests=tests if spec['variant'] == 'toolkit_calibrated' else None,
                          chains=spec['chains'], draws=spec['draws'], tune=spec['tune'], random_seed=spec['seed'])
        model.fit()
        wall = time.perf_counter() - start
        res = diagnostics(model.mmm.idata, model.free_parameters(), wall)
        contrib = model.contribution_draws().sum('date')
    spend = demo.data[channels].sum()
    roas = {}
    for c in sorted(set(tests.channel)):
        draws = (contrib.sel(channel=c) / spend[c]).to_numpy().ravel()
        lo, hi = np.quantile(draws, [0.03, 0.97])
        roas[c] = {'true': t['channel'][c]['roas'], 'mean': float(draws.mean()), 'low': float(lo), 'high': float(hi),
                   'inside': bool(lo <= t['channel'][c]['roas'] <= hi)}
    return {**res, 'peak_mb': peak_memory_mb(), 'roas': roas}

def row(name, r):
    conv = r['max_r_hat'] < 1.01 and r['divergence_rate'] < 0.01 and r['min_ess_bulk'] >= 400
    inside = sum(v['inside'] for v in r['top5'].values())
    return (f"{name:28s} {r['wall_s']:8.1f} {r['divergences']:6d} {r['max_r_hat']:7.3f} {r['min_ess_bulk']:8.0f} "
            f"{r['min_ess_tail']:8.0f} {r['min_ess_bulk_per_s']:9.2f} {r['peak_mb']:8.0f}  {inside}/5  {'yes' if conv else 'NO'}"
            f"{'  (retried: ' + '; '.join(r['retried_for']) + ')' if r.get('retried_for') else ''}")

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--child', help=argparse.SUPPRESS)
    p.add_argument('--mode', choices=['fit', 'holdout', 'clients', 'adaptation', 'budget', 'calibration', 'geo', 'forward', 'compile', 'levers'], default='fit')
    p.add_argument('--geo-clients', nargs='+', default=['geo', 'meridian'], choices=list(GEO_CLIENTS), help="geo mode: the clients fitted")
    p.add_argument('--geo-seeds', type=int, nargs='*', default=[],
                   help="geo mode: also the bundled client's design simulated at these seeds ('sim<seed>'), and the coverage over all")
    p.add_argument('--geo-variants', nargs='+', default=['toolkit', 'plain'], choices=['toolkit', 'plain'], help="geo mode: what fits them")
    p.add_argument('--seeds', type=int, nargs='+', default=[1, 2], help="clients, adaptation and levers modes: the seeds of each client's fits")
    p.add_argument('--chains', type=int, default=4); p.add_argument('--draws', type=int, default=1000)
    p.add_argument('--tune', type=int, default=1000); p.add_argument('--seed', type=int, default=42)
    p.add_argument('--plain-samplers', nargs='+', default=['default'], help="PyMC-Marketing's sampler(s); 'default' is PyMC NUTS")
    p.add_argument('--toolkit-samplers', nargs='+', default=['default'], help="toolkit sampler(s); 'default' is its default")
    p.add_argument('--guide-priors', action='store_true', help="also fit the toolkit with the user guide's exact priors")
    p.add_argument('--adaptations', nargs='+', default=['decorrelated:0.9', 'low_rank:0.9'],
                   help="adaptation mode: the samplings compared, as adaptation:target_accept")
    p.add_argument('--new-data', action='store_true', help="data no compilation on disk has seen (as after a data refresh)")
    a = p.parse_args()
    if a.child:
        print(json.dumps(child(json.loads(a.child)), default=float)); return
    base = dict(chains=a.chains, draws=a.draws, tune=a.tune, seed=a.seed, new_data=a.new_data)
    results = {}
    if a.mode == 'fit':
        for s in a.plain_samplers: results[f'plain pmc-marketing ({s})'] = run_child('plain', {**base, 'sampler': s})
        for s in a.toolkit_samplers: results[f'pymc_toolkit ({s})'] = run_child('toolkit', {**base, 'sampler': s})
        if a.guide_priors: results["pymc_toolkit, guide's priors"] = run_child('toolkit', {**base, 'sampler': 'default', 'preset': 'guide'})
        print(f"\n{a.chains} chains x {a.draws} draws (+{a.tune} tune), demo client, guide configuration (MM, lag 4, time-varying media)")
        print(f"{'':28s} {'wall s':>8s} {'div':>6s} {'r_hat':>7s} {'ESSbulk':>8s} {'ESStail':>8s} {'ESS/s':>9s} {'peak MB':>8s}  top5  converged")
        for name, r in results.items(): print(row(name, r))
        print("\nTrue vs estimated total contribution of the 5 biggest channels (mean [94% interval]):")
        for name, r in results.items():
            print(f"  {name}:")
            for c, v in r['top5'].items():
                print(f"    {c:32s} true {v['true']:>12,.0f}  est {v['mean']:>12,.0f}  [{v['low']:,.0f}, {v['high']:,.0f}]  {'inside' if v['inside'] else 'OUTSIDE'}")
        names = list(results)
        ref = results[names[0]]
        for name in names[1:]:
            r = results[name]
            print(f"ratio {name} / {names[0]}: wall x{r['wall_s'] / ref['wall_s']:.2f}, "
                  f"min-bulk-ESS per second x{r['min_ess_bulk_per_s'] / max(ref['min_ess_bulk_per_s'], 1e-9):.1f}")
    elif a.mode == 'budget':
        r = results['budget'] = run_child('budget', {**base, 'sampler': 'default'})
        print(f"\nBudget on the demo client ({a.chains} chains x {a.draws} draws, 13 money channels, 13 weeks): one fit {r['one_fit_s']:.1f} s, "
              f"optimization {r['optimization_s']:.1f} s (window, solve, both plans evaluated), budget fleet (fit + plan) {r['fleet_s']:.1f} s "
              f"= x{r['fleet_s'] / r['one_fit_s']:.2f} one fit; uplift {r['uplift']['mean']:,.0f} [{r['uplift']['low']:,.0f}, "
              f"{r['uplift']['high']:,.0f}], P(beats current) {r['probability']:.0%}, at a bound: {', '.join(r['at_bound']) or 'none'}; "
              f"fleet {'healthy' if r['fleet_healthy'] else 'NOT healthy: ' + '; '.join(r['fleet_reasons'])}")
    elif a.mode == 'calibration':
        print(f"\nLift-test calibration, {a.chains} chains x {a.draws} draws (+{a.tune} tune); ROAS of the tested channels, truth and 94% interval")
        for client in ('confounded', 'shop2'):
            row_ = results[client] = {v: run_child('calibration', {**base, 'sampler': 'default', 'lift_client': client, 'variant': v})
                                      for v in ('toolkit_plain', 'toolkit_calibrated', 'pmm_calibrated')}
            for v, r in row_.items():
                roas = '; '.join(f"{c} {x['mean']:.2f} [{x['low']:.2f}, {x['high']:.2f}] (true {x['true']:.2f}{'' if x['inside'] else ', OUTSIDE'})"
                                 for c, x in r['roas'].items())
                print(f"{client:10s} {v:18s} {r['wall_s']:7.1f} s, div {r['divergences']}, r_hat {r['max_r_hat']:.4f}, "
                      f"ESS {r['min_ess_bulk']:.0f}, ESS/s {r['min_ess_bulk_per_s']:.1f}; {roas}", flush=True)
            print(f"{client:10s} ratios: calibrated / uncalibrated toolkit wall x{row_['toolkit_calibrated']['wall_s'] / row_['toolkit_plain']['wall_s']:.2f}; "
                  f"plain PyMC-Marketing calibrated / toolkit calibrated wall x{row_['pmm_calibrated']['wall_s'] / row_['toolkit_calibrated']['wall_s']:.2f}, "
                  f"ESS/s x{row_['toolkit_calibrated']['min_ess_bulk_per_s'] / max(row_['pmm_calibrated']['min_ess_bulk_per_s'], 1e-9):.1f} for the toolkit")
    elif a.mode == 'forward':
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            fits = {drop: run_child('forward_fit', {**base, 'folder': f'{tmp}/fit{drop}', 'drop': drop}) for drop in (4, 5)}
            for backend in ('numba', 'toolkit'):   # each on its own empty compile cache, then again with what it left on disk,
                env = {'PYTENSOR_FLAGS': f'base_compiledir={tmp}/cache_{backend}'}   # then on a fit one week shorter (new data)
                for cache, drop in (('empty cache', 4), ('on disk', 4), ('new data', 5)):
                    results[f'{backend}, {cache}'] = run_child('forward', {**base, 'folder': f'{tmp}/fit{drop}', 'drop': drop,
                                                                           'backend': backend}, env)
        print(f"\nComputations from a fitted posterior: the demo client fitted on all but 4 weeks ({fits[4]['fit_s']:.0f} s; the fit one "
              f"week shorter {fits[5]['fit_s']:.0f} s), {a.chains} chains x {a.draws} draws; seconds per step, numba = PyTensor's default "
              f"(plain PyMC-Marketing), toolkit = forward_kwargs() (Python) for the draws and the budget fleet's plan, numba for a "
              f"person's plan (optimize_budget)")
        print(f"{'':22s}" + ''.join(f"{n:>21s}" for n in results))
        for step in FORWARD_STEPS: print(f"{step:22s}" + ''.join(f"{r['seconds'][step]:21.2f}" for r in results.values()))
        print(f"{'all':22s}" + ''.join(f"{sum(r['seconds'].values()):21.2f}" for r in results.values()))
        for cache in ('empty cache', 'on disk', 'new data'):
            n, tk = (sum(results[f'{b}, {cache}']['seconds'].values()) for b in ('numba', 'toolkit'))
            print(f"ratio numba / toolkit, {cache}: x{n / tk:.2f}")
    elif a.mode == 'compile':
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            for compiler in ('nutpie', 'toolkit'):   # each on its own empty compile cache, then again in a new process with what it
                env = {'PYTENSOR_FLAGS': f'base_compiledir={tmp}/cache_{compiler}'}   # left on disk, then one week fewer (new data)
                for cache, drop in (('empty cache', 4), ('on disk', 4), ('new data', 5)):
                    results[f'{compiler}, {cache}'] = run_child('compile', {**base, 'drop': drop, 'compiler': compiler}, env)
        print("\nCompiling the demo client's model for nutpie (all but its last 4 weeks; 'new data': 5), each in a new process: "
              "nutpie = nutpie.compile_pymc_model (plain PyMC-Marketing's), toolkit = compile_for_nutpie")
        for name, r in results.items():
            print(f"{name:22s} compile {r['compile_s']:6.1f} s, one log-density and gradient {r['call_us']:6.1f} us, "
                  f"logp {r['logp']:.10g}, |grad| {r['grad_norm']:.10g}")
        for cache in ('empty cache', 'on disk', 'new data'):
            n, tk = (results[f'{c}, {cache}']['compile_s'] for c in ('nutpie', 'toolkit'))
            print(f"ratio nutpie / toolkit, {cache}: x{n / tk:.2f}")
    elif a.mode == 'geo':
        print(f"\nGeo clients, {a.chains} chains x {a.draws} draws (+{a.tune} tune); plain = PyMC-Marketing MMM(dims=('geo',)) defaults with nutpie")
        for client in [*a.geo_clients, *(f'sim{s}' for s in a.geo_seeds)]:
            row_ = results[client] = {}
            for v in a.geo_variants:
                r = row_[v] = run_child('geo', {**base, 'geo_client': client, 'variant': v})
                conv = r['max_r_hat'] < 1.01 and r['divergence_rate'] < 0.01 and r['min_ess_bulk'] >= 400
                print(f"{client:9s} {v:8s} {r['wall_s']:7.1f} s, div {r['divergences']}, r_hat {r['max_r_hat']:.3f}, ESS {r['min_ess_bulk']:.0f}, "
                      f"ESS/s {r['min_ess_bulk_per_s']:.2f}, peak {r['peak_mb']:.0f} MB, total ROAS inside {sum(r['total_inside'].values())}/"
                      f"{len(r['total_inside'])}, geo coverage {r['geo_coverage']:.0%}, {'converged' if conv else 'NOT converged'}"
                      f"{'  (retried: ' + '; '.join(r['retried_for']) + ')' if r.get('retried_for') else ''}", flush=True)
                print(f"{'':18s} truth's quantile in each total ROAS posterior: "
                      + ', '.join(f"{c} {q:.2f}" for c, q in r['truth_quantile'].items()), flush=True)
            if {'toolkit', 'plain'} <= set(row_):
                tk, pl = row_['toolkit'], row_['plain']
                print(f"{client:9s} ratio toolkit / plain: wall x{tk['wall_s'] / pl['wall_s']:.2f}, "
                      f"min-bulk-ESS per second x{tk['min_ess_bulk_per_s'] / max(pl['min_ess_bulk_per_s'], 1e-9):.1f}", flush=True)
        for v in a.geo_variants:  # coverage over every client fitted: a calibrated 94 % interval misses ~6 % of true values
            ins = [x for r in results.values() if v in r for x in r[v]['total_inside'].values()]
            qs = sorted(q for r in results.values() if v in r for q in r[v]['truth_quantile'].values())
            covs = [r[v]['geo_coverage'] for r in results.values() if v in r]
            print(f"{v}: total ROAS inside its 94 % interval for {sum(ins)} of {len(ins)} (client, channel) pairs; "
                  f"the truth above the posterior median in {sum(q > 0.5 for q in qs)} of {len(qs)}; "
                  f"mean geo coverage {sum(covs) / max(len(covs), 1):.0%}", flush=True)
    elif a.mode == 'adaptation':
        # adaptation:target_accept asked (the decorrelated stage raises it to 0.97 itself)
        configs = {c: float(ta) for c, ta in (x.split(':') for x in a.adaptations)}
        print(f"\nSampling one fit, {a.chains} chains x {a.draws} draws (+{a.tune} tune), guide configuration, no retry; "
              f"ESS/s = min bulk ESS per second of nutpie sampling (compilation excluded)")
        for name in [None, *other_clients()]:
            for seed in a.seeds:
                row_ = {}
                for adaptation, ta in configs.items():
                    r = row_[adaptation] = run_child('adaptation', {**base, 'client': name, 'seed': seed, 'adaptation': adaptation, 'target_accept': ta})
                    print(f"{name or 'demo':16s} seed {seed} {adaptation:12s}: sampling {r['sampling_s']:6.1f} s (wall {r['wall_s']:6.1f}), "
                          f"div {r['divergences']:3d}, r_hat {r['max_r_hat']:.4f}, ESS {r['min_ess_bulk']:5.0f}/{r['min_ess_tail']:5.0f}, "
                          f"ESS/s {r['ess_per_sampling_s']:6.1f}", flush=True)
                results[f"{name or 'demo'} seed {seed}"] = row_
                if {'decorrelated', 'low_rank'} <= set(row_):
                    print(f"{'':16s} ratio decorrelated / low_rank ESS/s: "
                          f"x{row_['decorrelated']['ess_per_sampling_s'] / max(row_['low_rank']['ess_per_sampling_s'], 1e-9):.2f}", flush=True)
    elif a.mode == 'levers':
        print(f"\nThe demo client's fit (guide configuration, {a.chains} x {a.draws} draws, fit() as a user runs it), each lever of issue #19; "
              "each fit in a process of its own after compiling its model there (its compilation on disk); z: the largest difference of a "
              "channel's total contribution from the default fit's, in Monte Carlo standard errors")
        for seed in a.seeds:
            for lever in LEVERS:
                r = results[f'{lever} seed {seed}'] = run_child('lever', {**base, 'seed': seed, 'lever': lever})
                z = within_mc_error(r, results[f'default seed {seed}'])
                print(f"seed {seed} {lever:20s}: {r['wall_s']:5.1f} s, {r['draws']} draws, div {r['divergences']}, "
                      f"r_hat {r['max_r_hat']:.4f}, ESS {r['min_ess_bulk']:.0f}/{r['min_ess_tail']:.0f}, ESS/s {r['min_ess_bulk'] / r['wall_s']:.1f}, "
                      f"lengthscale 5/50/95% {' / '.join(f'{q:.1f}' for q in r['ls_quantiles'])}, z {z:.1f}"
                      f"{'' if not r['problems'] else ', NOT converged: ' + '; '.join(r['problems'])}"
                      f"{' (retried: ' + '; '.join(r['retried_for']) + ')' if r['retried_for'] else ''}", flush=True)
    elif a.mode == 'clients':
        print(f"\nHouse defaults (MM, lag 4, time-varying media), {a.chains} chains x {a.draws} draws (+{a.tune} tune), clients unlike the demo client")
        for name in other_clients():
            for seed in a.seeds:
                r = results[f'{name} seed {seed}'] = run_child('toolkit', {**base, 'sampler': 'default', 'client': name, 'seed': seed})
                inside = sum(v['inside'] for v in r['top5'].values())
                print(f"{name:16s} seed {seed}: {r['wall_s']:6.1f} s, div {r['divergences']}, r_hat {r['max_r_hat']:.4f}, "
                      f"ESS {r['min_ess_bulk']:.0f}/{r['min_ess_tail']:.0f}, top5 inside {inside}/5, "
                      f"{'converged' if not r['problems'] else 'NOT converged: ' + '; '.join(r['problems'])}"
                      f"{' (retried: ' + '; '.join(r['retried_for']) + ')' if r['retried_for'] else ''}", flush=True)
        print(f"retried {sum(bool(r['retried_for']) for r in results.values())} of {len(results)} fits; "
              f"converged {sum(not r['problems'] for r in results.values())} of {len(results)}")
    else:
        for kind in ('one_fit', 'one_fit_stopping', 'independent_fits', 'holdout_fleet_cold', 'holdout_fleet_no_ahead', 'holdout_fleet_all_draws', 'holdout_fleet'):
            results[kind] = run_child(kind, {**base, 'sampler': 'default'})
        one = results['one_fit']['wall_s']
        print(f"\n3-horizon holdout fleet (4, 8, 12 weeks) vs one fit, {a.chains} chains x {a.draws} draws (+{a.tune} tune), "
              f"demo client{', new data' if a.new_data else ''}")
        for kind, r in results.items():
            print(f"{kind:20s} {r['wall_s']:8.1f} s  x{r['wall_s'] / one:.2f} of one fit   peak {r['peak_mb']:.0f} MB")
            for h, d in r.get('horizons', {}).items():
                print(f"    {h:>2} weeks: fit {d['fit_seconds']:5.1f} s, {d['draws']} draws{' (stopped early)' if d['stopped_early'] else ''}, tune {d['tune']:4d}{' (warm start)' if d['warm_start'] else ''}, target_accept {d['target_accept']}, "
                      f"div {d['divergences']}, r_hat {d['max_r_hat']:.4f}, ESS {d['min_ess_bulk']:.0f}/{d['min_ess_tail']:.0f}, test MAPE {d['test_mape']:.3f}"
                      f"{', compiled ahead' if d['compiled_ahead'] else ''}{'' if d['healthy'] else ', UNHEALTHY'}"
                      f"{', retried: ' + '; '.join(d['retried_for']) if d['retried_for'] else ''}")
        stop = results['one_fit_stopping']
        print(f"default fleet / one fit that also stops once converged ({stop['draws']} draws per chain): "
              f"x{results['holdout_fleet']['wall_s'] / stop['wall_s']:.2f} (what sharing alone gives, the draws being alike)")
    out = ROOT / 'benchmarks' / 'results'; out.mkdir(parents=True, exist_ok=True)
    (out / f"{a.mode}{'_new_data' if a.new_data else ''}_{time.strftime('%Y%m%d_%H%M%S')}.json").write_text(json.dumps(results, indent=1, default=float))

if __name__ == '__main__':
    main()
