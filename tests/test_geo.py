"""Geo clients (many markets in one model): answers per market add up to the total, a fitted geo model travels through
save/load, fleets and the report, and bad geo input is refused before anything is fitted, naming the geo and row."""
import json, re

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, SMALL
from pymc_toolkit.budget import BudgetError
from pymc_toolkit.client_config import ClientConfig, ClientDataError
from pymc_toolkit.demo_data import simulate_geo_client, simulate_geo_lift_tests
from pymc_toolkit.fleets import FleetResult
from pymc_toolkit.pymc_model import PymcModel
import plotly.graph_objects as go
from pymc_toolkit.reports import figure_html, geo_section, start_report

@pytest.fixture(scope='session')
def geo_demo():
    "A small simulated geo client: 4 markets, 60 weeks."
    return simulate_geo_client(n_geos=4, n_weeks=60)

@pytest.fixture(scope='session')
def geo_roles(geo_demo):
    t = geo_demo.truth
    return dict(target_name=t['target'], date_column=t['date_column'], channel_names=t['channels'], control_names=t['controls'],
                geo_column='geo')

@pytest.fixture(scope='session')
def geo_tests(geo_demo):
    "Two lift tests of TV in the east, from that market's true curve."
    return simulate_geo_lift_tests(geo_demo, {'east': ['tv_cost']}, tests_per_channel=2, seed=1)

@pytest.fixture(scope='session')
def geo_fleet(geo_demo, geo_roles, geo_tests):
    "The production fleet of the small geo client with its lift tests, fitted once with small draws."
    tests = geo_tests[geo_tests.date_end < geo_demo.data.date_week.iloc[-4 * 4]]   # tests that ended in the training weeks
    assert len(tests) >= 1
    return PymcModel(geo_demo.data, **geo_roles, client_id='geo4', lift_tests=tests, **SMALL).production_fleet(test_weeks=4)

def test_markets_add_up_to_the_total(geo_fleet):
    model = geo_fleet.model
    total, by_geo = model.channel_summary(), model.geo_summary()
    # posterior means are linear: the markets' mean contributions sum to the total's (same draws, float sums only)
    np.testing.assert_allclose(by_geo.contribution.groupby('channel').sum().reindex(total.index), total.contribution, rtol=1e-9)
    np.testing.assert_allclose(by_geo.spend.groupby('channel').sum().reindex(total.index), total.spend, rtol=1e-12)
    np.testing.assert_allclose(model.y_fit_by_geo.sum('geo'), model.y_fit, rtol=1e-12)
    # the total's ROAS is the spend-weighted ROAS of the markets, so it lies between the markets' ROAS
    roas = by_geo.roas.unstack('geo')
    assert ((roas.min(axis=1) <= total.roas + 1e-12) & (total.roas <= roas.max(axis=1) + 1e-12)).all()
    # every market's intercept is on its own scale: a bigger market has a bigger baseline
    sizes = model.config.data.groupby('geo').ecommerce_revenue.mean()
    intercept = model.summarize_variable('intercept').coef
    assert intercept.idxmax() == sizes.idxmax() and intercept.idxmin() == sizes.idxmin()

def test_fleet_frames_lead_with_the_total(geo_fleet, geo_demo):
    weekly = geo_demo.data.groupby('date_week').ecommerce_revenue.sum()
    np.testing.assert_allclose(geo_fleet.frames['train'].actual, weekly.iloc[:-4], rtol=1e-12)
    np.testing.assert_allclose(geo_fleet.frames['test'].actual, weekly.iloc[-4:], rtol=1e-12)
    metrics = geo_fleet.frames['geo_metrics']
    assert sorted(metrics.geo.unique()) == geo_fleet.model.config.geos and set(metrics.split) == {'train', 'test'}
    assert len(geo_fleet.frames['geo_weekly']) == 4 * 60   # every market, every week (56 train + 4 test)
    assert geo_fleet.options['test_weeks'] == 4

def test_predict_per_geo_and_in_total(geo_fleet, geo_demo):
    model, data = geo_fleet.model, geo_demo.data
    new = data[data.date_week > model.config.weeks.iloc[-1]].drop(columns='ecommerce_revenue')
    by_geo = model.predict_draws(new, by_geo=True)
    assert by_geo.sizes['geo'] == 4 and by_geo.sizes['date'] == 4
    np.testing.assert_allclose(model.predict_draws(new), by_geo.sum('geo'), rtol=1e-12)
    east = model.predict(new, geo='east')
    np.testing.assert_allclose(east.prediction, by_geo.sel(geo='east').mean('sample'), rtol=1e-12)
    with pytest.raises(ClientDataError, match="'west' is missing"):
        model.predict(new[new.geo != 'west'])
    with pytest.raises(ClientDataError, match="Unknown geo 'nroth'.*Did you mean 'north'"):
        model.channel_summary(geo='nroth')

def test_lift_tests_are_read_in_their_market(geo_fleet):
    "Each test is compared with the lift its market's curve implies (PyMC-Marketing's estimate, scaled by that market)."
    check = geo_fleet.frames['lift_tests']
    assert list(check.geo) == ['east'] * len(check) and (check.model_high > check.model_low).all()
    # the implied lift is that market's order of magnitude: within a factor 5 of the measured lift at these tiny draws
    ratio = check.model_lift / check.delta_y
    assert ((ratio > 0.2) & (ratio < 5)).all(), ratio.tolist()

def test_forecast_per_geo_and_in_total(geo_fleet):
    "The forecast fleet on the fitted geo model (no refit): a steady plan per market, forecast per market and summed."
    f = geo_fleet.model.forecast_fleet(horizon_weeks=3)
    per_geo, total = f.frames['geo_forecast'], f.frames['forecast']
    assert len(per_geo) == 4 * 3 and sorted(per_geo.geo.unique()) == geo_fleet.model.config.geos
    np.testing.assert_allclose(per_geo.groupby('date').prediction.sum().to_numpy(), total.prediction.to_numpy(), rtol=1e-9)
    plan = f.frames['plan']   # each market planned at its own recent spend
    east = geo_fleet.model.config.data.query("geo == 'east'").tv_cost.tail(13).mean()
    np.testing.assert_allclose(plan[plan.geo == 'east'].tv_cost, east, rtol=1e-12)

def test_save_and_load_keep_the_markets(geo_fleet, tmp_path):
    geo_fleet.save(tmp_path / 'fleet')
    loaded = FleetResult.load(tmp_path / 'fleet')
    assert loaded.model.config.geos == geo_fleet.model.config.geos
    assert loaded.model.config.scales == geo_fleet.model.config.scales
    assert list(loaded.model.config.lift_tests.geo) == list(geo_fleet.model.config.lift_tests.geo)
    # saved and loaded by this process: the same draws, the same numbers
    pd.testing.assert_frame_equal(loaded.model.geo_summary(), geo_fleet.model.geo_summary())
    pd.testing.assert_frame_equal(loaded.frames['geo_metrics'], geo_fleet.frames['geo_metrics'], check_dtype=False)

def test_report_has_a_geo_section(geo_fleet, tmp_path):
    page = geo_fleet.generate_report(tmp_path / 'geo.html').read_text()
    assert '<h2>Geos</h2>' in page and 'ROAS by geo and channel' in page
    assert page.index('<h2>Fit</h2>') < page.index('<h2>Geos</h2>')   # the total first, then the markets

def test_a_40_geo_section_stays_small():
    "The geo section of a 40-market, 3-year client: small multiples and tables well under the 10 MB page budget."
    rng, dates = np.random.default_rng(0), pd.date_range('2022-01-02', periods=156, freq='7D')
    geos = [f'geo_{i:02d}' for i in range(40)]
    weekly = pd.concat([pd.DataFrame({'split': 'train', 'geo': g, 'date': dates, 'actual': rng.normal(100, 5, 156),
                                      'prediction': 100.0, 'low': 90.0, 'high': 110.0}) for g in geos], ignore_index=True)
    metrics = pd.DataFrame([{'split': 'train', 'geo': g, 'mape': 0.05, 'nrmse': 0.1} for g in geos])
    r = FleetResult('production', 'big', None, {'geo_weekly': weekly, 'geo_metrics': metrics}, {}, [])
    start_report()
    plotly = len(figure_html(go.Figure()).encode())   # a page inlines plotly.js once, with its first chart
    html = geo_section(r)
    assert all(g in html for g in geos) and 'plotly.js v' not in html
    # the section's own weight: a 40-geo page = plotly (~4.6 MB) + the total's sections (~1 MB) + this, well under 10 MB
    assert plotly + len(html.encode()) < 7_000_000, (plotly, len(html.encode()))

def test_bad_geo_input_is_refused_before_fitting(geo_demo, geo_roles):
    d, roles = geo_demo.data, geo_roles
    cases = [
        (d.drop(columns='geo'), {}, "geo_column 'geo' is not in the data"),
        (pd.concat([d, d.iloc[[9]]]), {}, "Row 240 repeats geo 'north' in the week 2022-01-16"),
        (d[~((d.geo == 'south') & (d.date_week == d.date_week.iloc[40]))], {}, "Geo 'south' has 59 of the 60 weeks"),
        (d.assign(ecommerce_revenue=np.where(d.geo == 'north', 0.0, d.ecommerce_revenue)), {}, "Geo 'north': target 'ecommerce_revenue' is constant"),
        (d.assign(geo=d.geo.where(d.index != 3, None)), {}, "row 3 has no geo name"),
        (d.assign(geo=d.geo.where(d.index != 3, ' ' + d.geo[3])), {}, "spells the geo"),
        (d.rename(columns={'events': 'region'}).assign(geo_col=d.geo), {'geo_column': 'geo_col', 'control_names': ['region', 'emails_delivered']}, None),
        (d.rename(columns={'geo': 'geo_col'}).rename(columns={'events': 'geo'}),
         {'geo_column': 'geo_col', 'control_names': ['geo', 'emails_delivered']}, "cannot have a target, channel or control named 'geo'"),
    ]
    for frame, extra, message in cases:
        build = lambda: ClientConfig(frame, **{**roles, **extra})
        if message is None: build(); continue    # another geo column name works
        with pytest.raises(ClientDataError, match=re.escape(message)): build()
    with pytest.raises(ClientDataError, match="need a 'geo' column naming the market"):
        PymcModel(d, **roles, lift_tests=ROOT / 'data' / 'shop2_lift_tests.csv')
    tests = simulate_geo_lift_tests(geo_demo, {'east': ['tv_cost'], 'west': ['search_cost']}, tests_per_channel=1)
    with pytest.raises(ClientDataError, match=re.escape("Lift test row 2 (channel 'search_cost'): geo 'wset' is not one of the client's markets")):
        PymcModel(d, **roles, lift_tests=tests.assign(geo=['east', 'wset']))
    with pytest.raises(ClientDataError, match='roas_priors are not supported for a geo client'):
        PymcModel(d, **roles, roas_priors={'tv_cost': (1.0, 0.3)})

def test_budget_refuses_a_geo_client(geo_fleet):
    with pytest.raises(BudgetError, match='geo client: budget decisions are national only'):
        geo_fleet.model.optimize_budget()

def test_geo_clients_file(tmp_path, geo_demo):
    from pymc_toolkit.batch import load_clients
    geo_demo.data.to_csv(tmp_path / 'geo.csv', index=False)
    (tmp_path / 'clients.yaml').write_text("""clients:
  - {client_id: g, data: geo.csv, target_name: ecommerce_revenue, date_column: date_week, geo_column: geo,
     channel_names: [tv_cost, search_cost], control_names: [events], fill_missing_weeks: 0, fleets: {production: {}}}
""")
    client = load_clients(tmp_path / 'clients.yaml').clients[0]
    assert client['geo_column'] == 'geo' and client['fill_missing_weeks'] == 0
    (tmp_path / 'bad.yaml').write_text("""clients:
  - {client_id: g, data: geo.csv, target_name: ecommerce_revenue, date_column: date_week, geo_column: [geo],
     channel_names: [tv_cost], fleets: {production: {}}}
""")
    with pytest.raises(ClientDataError, match="'geo_column' must be a str"):
        load_clients(tmp_path / 'bad.yaml')
