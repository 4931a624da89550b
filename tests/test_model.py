"""End to end on the demo client: fit, summaries, save/load, prediction with carry-over, reproducibility, the demo script."""
import json, os, subprocess, sys

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, SMALL
from pymc_toolkit.pymc_model import PymcModel

def test_summaries_survive_save_and_load(small_fit, tmp_path):
    path = small_fit.save(tmp_path / 'client0')
    loaded = PymcModel.load(path)
    assert loaded.summarize_variable('intercept') == small_fit.summarize_variable('intercept')
    pd.testing.assert_frame_equal(loaded.channel_summary(), small_fit.channel_summary())
    pd.testing.assert_frame_equal(loaded.summarize_variable('saturation_alpha'), small_fit.summarize_variable('saturation_alpha'))
    assert loaded.diagnostics == small_fit.diagnostics
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]  # no temporary folder left behind

def test_saving_again_replaces_the_folder(small_fit, tmp_path):
    small_fit.save(tmp_path / 'm')
    (tmp_path / 'm' / 'stale.txt').write_text('old')
    small_fit.save(tmp_path / 'm')
    assert not (tmp_path / 'm' / 'stale.txt').exists()

def test_load_of_a_folder_without_a_model(tmp_path):
    with pytest.raises(FileNotFoundError, match='config.json is missing'):
        PymcModel.load(tmp_path)

def test_summaries_are_in_the_clients_units(small_fit, demo):
    s = small_fit.summarize_variable('intercept')
    # the demo's true weekly baseline is 140,000; a 60-draw fit is rough, but in revenue units it lands within
    # a factor of 4 of it (in scaled units it would be ~0.4, so this catches a missing inverse scaling)
    assert 35_000 < s['coef'] < 560_000
    table = small_fit.channel_summary()
    assert (table.roas_low <= table.roas).all() and (table.roas <= table.roas_high).all()
    np.testing.assert_allclose(table.spend.to_numpy(), demo.data[table.index].sum().to_numpy())

def test_prediction_carries_adstock_over(small_fit, demo):
    "Dark weeks right after the fitted weeks still earn from the spend before them."
    last = demo.data.date_week.iloc[-1]
    dark = pd.DataFrame({'date_week': [last + pd.Timedelta(weeks=k) for k in (1, 2, 3)]})
    for c in small_fit.config.channel_names: dark[c] = 0.0
    for c in small_fit.config.control_names: dark[c] = demo.data[c].iloc[-1]
    with_history = small_fit.predict(dark).prediction.to_numpy()
    X, _ = small_fit.model_inputs(small_fit._new_weeks_config(dark))
    without = small_fit.mmm.sample_posterior_predictive(X, extend_idata=False, include_last_observations=False,
                                                        progressbar=False, random_seed=1)['y'].mean('sample').to_numpy()
    without = without * small_fit.target_scale()
    # the posterior-mean gap in week 1 is tens of thousands; the Monte-Carlo error of each mean (120 draws,
    # noise sd ~6,000) is ~600, so a gap above 1,000 is carry-over, not chance
    assert with_history[0] - without[0] > 1_000

def test_same_seed_same_summary(demo, roles, small_fit):
    again = PymcModel(demo.data, **roles, time_varying_media=True, **SMALL).fit()
    assert again.summarize_variable('intercept') == small_fit.summarize_variable('intercept')
    pd.testing.assert_frame_equal(again.channel_summary(), small_fit.channel_summary())

def test_demo_script_prints_intercept_and_roas():
    out = subprocess.run([sys.executable, str(ROOT / 'discoveries' / 'demo_fit.py'), '--chains', '2', '--draws', '50', '--tune', '50'],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode in (0, 3), out.stderr[-3000:]   # 3: ran, but (as expected with 50 draws) not converged
    assert "'variable': 'intercept'" in out.stdout
    assert 'ROAS per channel' in out.stdout and 'google_ads_search_brand_cost' in out.stdout
    assert 'NOT converged' in out.stdout   # 50 draws cannot pass the ESS bar: the script must say so

def test_same_seed_same_fleet_summary(demo, roles):
    "Reproducibility: the same data, configuration, seed and sampler give an identical fleet summary()."
    from pymc_toolkit.fleets import production_fleet
    model = PymcModel(demo.data, **roles, time_varying_media=False, **SMALL)
    first, second = production_fleet(model), production_fleet(model)
    assert first.summary() == second.summary()

# A fit in a fresh process, its draws printed; the test gives each run the same new compile folder (the first finds it empty).
CURVE_FIT = """
import json, numpy as np, pymc as pm
from pymc_toolkit.sampling import SharedSampling
rng = np.random.default_rng(0)
x = rng.normal(size=300)
y = 1.5 + 0.7 * np.exp(0.3 * x) + rng.normal(scale=0.5, size=300)
with pm.Model() as model:
    a, b, k, s = pm.Normal('a', 0, 5), pm.HalfNormal('b', 2), pm.Normal('k', 0, 1), pm.HalfNormal('s', 1)
    pm.Normal('y', a + b * pm.math.exp(k * x), s, observed=y)
idata = SharedSampling().sample(model, chains=1, draws=100, tune=300, target_accept=0.9, random_seed=1)
print(json.dumps(idata.posterior['k'].values.ravel().tolist()))
"""

def test_same_seed_same_draws_compiled_cold_or_loaded_from_disk(tmp_path):
    "Reproducibility across processes: a fit compiled on an empty compile cache draws what the same fit loading it draws."
    env = {**os.environ, 'PYTENSOR_FLAGS': f'base_compiledir={tmp_path}'}
    runs = [subprocess.run([sys.executable, '-c', CURVE_FIT], capture_output=True, text=True, env=env, timeout=600) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr[-3000:] + runs[1].stderr[-3000:]
    cold, loaded = (np.array(json.loads(r.stdout.strip().splitlines()[-1])) for r in runs)
    # Equal up to float printing: with numba's fast-math the log-density differed in its last bits between the two
    # compilations, and 400 NUTS steps made that a different chain (draws apart by a posterior sd, ~0.02 here).
    np.testing.assert_allclose(loaded, cold, rtol=1e-12, atol=0)

def test_non_convergence_reaches_the_log(small_fit, caplog):
    "No silent failure: a fit that did not converge says so at WARNING level, with the reasons."
    import logging
    with caplog.at_level(logging.WARNING, logger='pymc_toolkit.pymc_model'):
        small_fit._log_diagnostics()
    warning = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning and 'NOT converged' in warning[0].getMessage() and 'ESS' in warning[0].getMessage()
