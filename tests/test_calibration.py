"""Lift tests end to end: bad tables refused before sampling (naming the row), the tests a fleet's fit sees (those that
ended before its cut), ROAS before and after, save and load, the report's Experiments section, and recovery with
experiments simulated from its truth. One small calibrated fleet is shared; the statistical demonstration (converged
fits, truth inside / outside) is in nbs/03a_calibration.ipynb."""
import numpy as np
import pandas as pd
import pytest
import pymc_marketing.mmm.mmm as pmm_mmm

from conftest import SMALL
from pymc_toolkit.client_config import ClientConfig, ClientDataError
from pymc_toolkit.demo_data import (CONFOUNDED_CLIENT, CONFOUNDED_LIFT_TESTS, DEMO_CONTROLS, DEMO_DATE, DEMO_TARGET,
                                    simulate_demo_client, simulate_lift_tests)
from pymc_toolkit.fleets import FleetResult, production_fleet
from pymc_toolkit.pymc_model import PymcModel
from pymc_toolkit.recovery_fleet import recovery_fleet

CHANNELS = [c.name for c in CONFOUNDED_CLIENT['channels']]

@pytest.fixture(scope='module')
def client():
    demo = simulate_demo_client(**CONFOUNDED_CLIENT)
    return demo, simulate_lift_tests(demo, **CONFOUNDED_LIFT_TESTS)

def model(demo, tests, **kw) -> PymcModel:
    return PymcModel(demo.data, DEMO_TARGET, DEMO_DATE, CHANNELS, list(DEMO_CONTROLS), lift_tests=tests, **{**SMALL, **kw})

@pytest.fixture(scope='module')
def fleet(client):
    "A production fleet holding out 20 weeks (the last test ends inside them), fitted with and without the tests."
    demo, tests = client
    return production_fleet(model(demo, tests), test_weeks=20, compare_uncalibrated=True)

@pytest.fixture
def no_sampling(monkeypatch):
    "Adding lift tests to a model or fitting one fails the test: bad input must be caught first."
    def refuse(*a, **k): raise AssertionError('the model was built or sampled before the bad lift tests were caught')
    monkeypatch.setattr(pmm_mmm.MMM, 'add_lift_test_measurements', refuse)
    monkeypatch.setattr(pmm_mmm.MMM, 'fit', refuse)

BAD = [  # (case, change to the table, message fragment naming the row)
    ('unknown channel', lambda t: t.assign(channel=['brand_search_cost', 'tv_costs', 'tv_cost', 'tv_cost']),
     "Lift test row 2 (channel 'tv_costs'): channel 'tv_costs' is not one of the client's channels. Did you mean 'tv_cost'?"),
    ('missing column', lambda t: t.drop(columns='delta_x'), "lacks column(s) ['delta_x']"),
    ('zero sigma', lambda t: t.assign(sigma=[1.0, 0.0, 1.0, 1.0]), "row 2 (channel 'brand_search_cost'): sigma is 0"),
    ('NaN sigma', lambda t: t.assign(sigma=[1.0, 1.0, np.nan, 1.0]), "row 3 (channel 'brand_search_cost'): sigma is nan"),
    ('no change', lambda t: t.assign(delta_x=[0.0, -1.0, -1.0, -1.0]), 'row 1 (channel \'brand_search_cost\'): delta_x is 0'),
    ('negative spend after', lambda t: t.assign(delta_x=t.delta_x * 2), "x + delta_x is"),
    ('end before start', lambda t: t.assign(date_end=t.date_start - pd.Timedelta(days=1)), 'is before date_start'),
    ('outside the weeks', lambda t: t.assign(date_end=t.date_end + pd.Timedelta(days=400)), "lies outside the client's weeks"),
]

@pytest.mark.parametrize('case,change,message', BAD, ids=[b[0] for b in BAD])
def test_bad_lift_tests_are_refused_before_sampling(client, no_sampling, tmp_path, case, change, message):
    demo, tests = client
    bad = change(tests.copy())
    with pytest.raises(ClientDataError, match=None) as e: model(demo, bad)
    assert message in str(e.value)
    path = tmp_path / 'lift.csv'; bad.to_csv(path, index=False)            # the same from a CSV file, and on a ClientConfig
    with pytest.raises(ClientDataError) as e: ClientConfig(demo.data, DEMO_TARGET, DEMO_DATE, CHANNELS, lift_tests=path)
    assert message in str(e.value)

def test_a_missing_lift_test_file_is_named(client, no_sampling):
    demo, _ = client
    with pytest.raises(ClientDataError, match="Lift-test file 'nowhere/lift.csv' does not exist"): model(demo, 'nowhere/lift.csv')

def test_the_callers_config_keeps_its_own_tests(client):
    demo, tests = client
    config = ClientConfig(demo.data, DEMO_TARGET, DEMO_DATE, CHANNELS, list(DEMO_CONTROLS))
    m = PymcModel(config, lift_tests=tests)
    assert config.lift_tests is None and len(m.config.lift_tests) == 4

def test_a_fleet_fits_the_tests_that_ended_before_its_cut(fleet, client):
    _, tests = client
    cut = fleet.model.config.dates.iloc[-1]
    seen = fleet.frames['lift_tests']
    assert len(seen) == 3 and (pd.to_datetime(seen.date_end) < cut + pd.Timedelta(days=7)).all()
    assert tests.date_end.max() >= cut + pd.Timedelta(days=7)          # the fourth ends in the held-out weeks
    assert fleet.model.mmm.idata.posterior['lift_measurements_model_estimated_lift_original_scale'].shape[-1] == 3

def test_a_calibrated_time_varying_model_predicts_its_test_weeks(client):
    "With time-varying media a lift test's likelihood reads the fitted weeks; predicting new weeks draws the target only."
    demo, tests = client
    r = production_fleet(model(demo, tests, time_varying_media=True), test_weeks=4)  # failed: IndexError in the lift test's node
    draws = r.model.predict_draws(demo.data.iloc[-4:])
    assert draws.sizes['date'] == 4 and np.isfinite(draws.to_numpy()).all()
    assert r.frames['test'].shape[0] == 4

def test_roas_before_and_after_and_both_fits_diagnosed(fleet):
    c = fleet.frames['calibration'].set_index('channel')
    assert list(c.index) == CHANNELS and c.loc['brand_search_cost', 'evidence'] == 'lift test'
    assert (c.uncalibrated_roas_low <= c.uncalibrated_roas).all() and (c.calibrated_roas <= c.calibrated_roas_high).all()
    assert len(fleet.diagnostics) == 2 and fleet.options['compare_uncalibrated']

def test_a_disagreeing_test_is_a_health_reason_and_survives_save_and_load(fleet, tmp_path):
    lift_reasons = lambda f: [r for r in f.health_reasons if r.startswith('lift test of')]
    altered = FleetResult(**{**fleet.__dict__, 'frames': dict(fleet.frames)})
    t = altered.frames['lift_tests'].copy()
    i = int(np.flatnonzero(t.agrees)[0])                    # a test the model agrees with...
    t.loc[i, 'delta_y'] = t.model_high[i] + 10 * t.sigma[i]; t.loc[i, 'agrees'] = False   # ...measured far above the model
    altered.frames['lift_tests'] = t
    reasons = lift_reasons(altered)
    new = sorted(set(reasons) - set(lift_reasons(fleet)))
    assert len(new) == 1 and f"{pd.Timestamp(t.date_start[i]):%Y-%m-%d}" in new[0] and not altered.healthy
    loaded = FleetResult.load(altered.save(tmp_path / 'fleet'))
    assert [r for r in loaded.health_reasons if r.startswith('lift test of')] == reasons

def test_a_saved_model_keeps_its_tests(fleet, tmp_path):
    loaded = PymcModel.load(fleet.model.save(tmp_path / 'model'))
    pd.testing.assert_frame_equal(loaded.config.lift_tests, fleet.model.config.lift_tests)
    pd.testing.assert_frame_equal(loaded.lift_test_check(), fleet.model.lift_test_check())   # same posterior, same seed

def test_the_report_shows_the_experiments(fleet, tmp_path):
    html = fleet.generate_report(tmp_path / 'production.html').read_text()
    assert '<h2>Experiments</h2>' in html and 'Lift tests: measured weekly lift' in html
    assert 'ROAS with 94% interval, without and with the experiments' in html

def test_compare_uncalibrated_needs_experiments(client, no_sampling):
    demo, _ = client
    with pytest.raises(ClientDataError, match='compare_uncalibrated=True needs lift tests'):
        production_fleet(model(demo, None), compare_uncalibrated=True)

def test_recovery_simulates_the_experiments_from_its_truth(client):
    demo, tests = client
    r = recovery_fleet(model(demo, tests), n_simulations=1)
    seen = r.frames['simulated_lift_tests']
    assert len(seen) == 4 and not np.allclose(seen.delta_y, tests.delta_y)   # measured on the simulated truth, not the client's
    pd.testing.assert_series_equal(seen.x, tests.x, check_names=False)
    # a simulated measurement outside the model's interval is the simulation's noise: never a health reason of the recovery
    assert 'lift_tests' not in r.frames and not any(h.startswith('lift test of') for h in r.health_reasons)
