"""Bad input: every case raises the toolkit's own error (a ValueError subclass) with a message that names
the column, row, key or setting at fault, before anything is sampled."""
import numpy as np
import pandas as pd
import pytest
from pymc_extras.prior import Prior
from pymc_marketing.mmm import MMM

from pymc_toolkit.client_config import ClientConfig, ClientDataError
from pymc_toolkit.priors import PriorConfigError
from pymc_toolkit.pymc_model import PymcModel

BUILD_MODEL = MMM.build_model

@pytest.fixture(autouse=True)
def no_sampling(monkeypatch):
    "Any attempt to build or sample a model in these tests fails the test: errors must come first."
    def refuse(*a, **k): raise AssertionError('sampling started before the bad input was caught')
    monkeypatch.setattr(MMM, 'fit', refuse)
    monkeypatch.setattr(MMM, 'build_model', refuse)

def set_cell(col, row, value):
    "A change that puts `value` in row `row` of column `col`."
    def change(df):
        df = df.copy()
        df[col] = df[col].astype(float if isinstance(value, float) else object)
        df.loc[row, col] = value
        return df
    return change

def assign(**cols):
    return lambda df: df.assign(**cols)

def swap_first_dates(df):
    df = df.copy()
    df.loc[[0, 1], 'date_week'] = df.loc[[1, 0], 'date_week'].to_numpy()
    return df

# (case id, change to the data, change to the PymcModel arguments, expected message fragment)
CASES = [
    ('missing channel', None, dict(channel_names=['snapchat_cost', 'tv_cost']), "Column 'tv_cost' given in channel_names is not in the data"),
    ('misspelled channel', None, dict(channel_names=['snapchat_cots']), "Did you mean 'snapchat_cost'"),
    ('missing control', None, dict(control_names=['events', 'holidays']), "Column 'holidays' given in control_names"),
    ('missing target', None, dict(target_name='revenue'), "Column 'revenue' given in target_name"),
    ('missing date column', None, dict(date_column='week'), "Column 'week' given in date_column"),
    ('target listed as channel', None, dict(channel_names=['ecommerce_revenue', 'snapchat_cost']), "'ecommerce_revenue' is listed in channel_names and in target_name"),
    ('control listed as channel', None, dict(control_names=['events', 'snapchat_cost']), "'snapchat_cost' is listed in control_names and in channel_names"),
    ('no channels', None, dict(channel_names=[]), "channel_names"),
    ('non-string column name', None, dict(channel_names=['snapchat_cost', 3]), "channel_names has 3, which is not a column name"),
    ('duplicate date', lambda d: d.assign(date_week=d.date_week.where(d.index != 10, d.date_week[9])), {}, "row 10 repeats the date"),
    ('unsorted dates', swap_first_dates, {}, "is not sorted: row 1"),
    ('missing week', lambda d: d.drop(index=20), {}, "rows 19 and 20 are 14 days apart"),
    ('daily rows (mixed frequency)', lambda d: d.assign(date_week=pd.date_range('2021-01-03', periods=len(d), freq='D')), {}, "is not weekly: rows 0 and 1 are 1 days apart"),
    ('date does not parse', set_cell('date_week', 4, 'week 5'), {}, "row 4 has 'week 5', which is not a date"),
    ('NaN in a channel', set_cell('google_ads_video_cost', 12, np.nan), {}, "Channel column 'google_ads_video_cost' row 12 is missing (NaN)"),
    ('NaN in the target', set_cell('ecommerce_revenue', 3, np.nan), {}, "Target column 'ecommerce_revenue' row 3 is missing"),
    ('inf in a control', set_cell('events', 8, np.inf), {}, "Control column 'events' row 8 is infinite"),
    ('-inf in a channel', set_cell('snapchat_cost', 9, -np.inf), {}, "Channel column 'snapchat_cost' row 9 is infinite"),
    ('negative spend', set_cell('google_ads_shopping_cost', 30, -120.0), {}, "Channel 'google_ads_shopping_cost' row 30 is negative"),
    ('string in a channel', set_cell('facebook_ads_engagement_cost', 2, '1,200 USD'), {}, "row 2 has '1,200 USD', which is not a number"),
    ('string in the target', set_cell('ecommerce_revenue', 0, 'n/a'), {}, "Target column 'ecommerce_revenue' row 0 has 'n/a'"),
    ('all-zero channel', assign(snapchat_cost=0.0), {}, "Channel 'snapchat_cost' is zero in every week"),
    ('constant target', assign(ecommerce_revenue=1000.0), {}, "Target 'ecommerce_revenue' is constant"),
    ('fewer rows than lag needs', lambda d: d.head(15), {}, "has 15 weeks"),
    ('lag longer than the data allows', lambda d: d.head(40), dict(lag_max=12), "lag_max=12 needs at least 48 training weeks"),
    ('unknown saturation', None, dict(saturation='tanh'), "Unknown saturation 'tanh'"),
    ('misspelled saturation', None, dict(saturation='michaelis'), "Did you mean 'michaelis_menten'"),
    ('unknown adstock', None, dict(adstock='exponential'), "Unknown adstock 'exponential'"),
    ('unknown prior key', None, dict(model_priors={'saturation_lambda': Prior('HalfNormal', sigma=1)}), "Unknown prior key 'saturation_lambda'. Did you mean 'saturation_lam'?"),
    ('prior of the wrong type', None, dict(model_priors={'intercept': 0.5}), "Prior 'intercept' must be a pymc_extras.prior.Prior"),
    ('prior of the wrong shape', None, dict(model_priors={'adstock_alpha': Prior('Beta', alpha=1, beta=3, dims='control')}), "Prior 'adstock_alpha' has dims=('control',)"),
    ('HSGP prior on a model without time-varying media', None, dict(time_varying_media=False, model_priors={'media_tvp_config': {'m': 20}}), "Unknown prior key 'media_tvp_config'"),
    ('malformed HSGP settings', None, dict(model_priors={'media_tvp_config': {'m': 'lots'}}), "'media_tvp_config' is not valid HSGP settings"),
    ('likelihood without sigma', None, dict(model_priors={'likelihood': Prior('Normal')}), "Prior 'likelihood' needs a 'sigma'"),
    ('lag_max zero', None, dict(lag_max=0), "lag_max=0 must be an integer >= 1"),
    ('negative seasonality', None, dict(yearly_seasonality=-2), "yearly_seasonality=-2 must be a positive integer"),
    ('zero draws', None, dict(draws=0), "draws=0 must be an integer >= 1"),
    ('fractional chains', None, dict(chains=2.5), "chains=2.5 must be an integer"),
    ('target_accept out of range', None, dict(target_accept=1.5), "target_accept=1.5"),
    ('unknown sampler', None, dict(nuts_sampler='stan'), "nuts_sampler='stan' is unknown"),
    ('negative seed', None, dict(random_seed=-1), "random_seed=-1"),
    ('no rows', lambda d: d.head(0), {}, "has no rows"),
]

@pytest.mark.parametrize('data_change, arg_change, message', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_named_before_sampling(demo, roles, data_change, arg_change, message):
    data = data_change(demo.data) if data_change else demo.data
    args = {**roles, 'time_varying_media': True, **arg_change}
    with pytest.raises(ClientDataError) as err:
        PymcModel(data, **args)
    assert isinstance(err.value, ValueError)
    assert message in str(err.value)

def test_the_suite_is_large_enough():
    assert len(CASES) >= 30

@pytest.mark.parametrize('content, message', [
    ('', 'is empty'),
    ('   \n\n', 'is empty'),
    ('date_week,ecommerce_revenue\n', 'has no rows'),
], ids=['empty file', 'blank lines', 'header only'])
def test_bad_files(tmp_path, content, message):
    p = tmp_path / 'client.csv'
    p.write_text(content)
    with pytest.raises(ClientDataError, match=message):
        ClientConfig(p, 'ecommerce_revenue', 'date_week', ['snapchat_cost'])

def test_missing_file(tmp_path):
    with pytest.raises(ClientDataError, match="does not exist"):
        ClientConfig(tmp_path / 'nope.csv', 'ecommerce_revenue', 'date_week', ['snapchat_cost'])

def test_wrong_type_of_client_data(roles):
    with pytest.raises(ClientDataError, match="must be a DataFrame or a CSV path, not list"):
        ClientConfig([1, 2, 3], 'ecommerce_revenue', 'date_week', ['snapchat_cost'])

@pytest.mark.parametrize('sep, decimal', [(';', ','), ('\t', '.'), ('|', '.')])
def test_bom_and_other_separators_are_read(tmp_path, demo, roles, sep, decimal):
    "Excel exports (BOM, ';' with decimal commas, tabs) load to the same data as the plain CSV."
    p = tmp_path / 'client.csv'
    text = demo.data.to_csv(index=False, sep=sep, decimal=decimal, date_format='%Y-%m-%d')
    p.write_bytes('\ufeff'.encode() + text.encode())
    cfg = ClientConfig(p, roles['target_name'], roles['date_column'], roles['channel_names'], roles['control_names'])
    plain = ClientConfig(demo.data, roles['target_name'], roles['date_column'], roles['channel_names'], roles['control_names'])
    pd.testing.assert_frame_equal(cfg.data, plain.data, check_dtype=False)

def test_fit_settings_are_checked_before_sampling(demo, roles):
    model = PymcModel(demo.data, **roles)
    with pytest.raises(PriorConfigError, match="tune=-5 must be an integer >= 0"):
        model.fit(tune=-5)

# Fleets: every option is checked before the first fit (the autouse fixture fails the test if sampling starts).

FLEET_CASES = [
    ('holdout longer than the data', lambda m: m.production_fleet(test_weeks=150), "holding out 150 leaves 11"),
    ('12-week holdout on 20 weeks', lambda m: m.with_config(m.config.head(20)).production_fleet(test_weeks=12), "holding out 12 leaves 8"),
    ('one holdout horizon too long', lambda m: m.holdout_fleet(holdouts=[4, 8, 160]), "holding out 160"),
    ('no holdout horizons', lambda m: m.holdout_fleet(holdouts=[]), "holdouts is empty"),
    ('negative test weeks', lambda m: m.production_fleet(test_weeks=-4), "test_weeks=-4"),
    ('refresh weeks without the target', lambda m: m.production_fleet(new_data=m.config.data.tail(2).drop(columns='ecommerce_revenue')),
     "need the target column 'ecommerce_revenue'"),
    ('refresh weeks with a gap', lambda m: m.production_fleet(new_data=m.config.data.tail(1).assign(date_week=pd.Timestamp('2030-01-06'))),
     "is not weekly"),
    ('unknown health threshold', lambda m: m.production_fleet(thresholds={'max_rhat': 1.1}), "Unknown health threshold(s) ['max_rhat']"),
    ('zero recovery simulations', lambda m: m.recovery_fleet(n_simulations=0), "n_simulations=0"),
    ('unknown true parameter', lambda m: m.recovery_fleet(true_params={'beta_tv': 1.0}), "true_params has unknown parameter(s) ['beta_tv']"),
    ('stability window too short', lambda m: m.stability_fleet(drop_weeks=(150,)), "holding out 150"),
    ('forecast horizon zero', lambda m: m.forecast_fleet(horizon_weeks=0), "horizon_weeks=0"),
    ('forecast plan in the past', lambda m: m.forecast_fleet(future_media=m.config.data.tail(3).drop(columns='ecommerce_revenue')), "future_media must start on"),
    ('forecast plan missing a channel', lambda m: m.forecast_fleet(future_media=pd.DataFrame({'date_week': [m.config.dates.iloc[-1] + pd.Timedelta(weeks=1)]})), "given in channel_names is not in the data"),
]

@pytest.mark.parametrize('call, message', [c[1:] for c in FLEET_CASES], ids=[c[0] for c in FLEET_CASES])
def test_fleet_options_are_checked_before_sampling(demo, roles, call, message, monkeypatch):
    import pymc as pm
    monkeypatch.setattr(MMM, 'build_model', BUILD_MODEL)   # building a graph is allowed; sampling is not
    monkeypatch.setattr(pm, 'sample_prior_predictive', lambda *a, **k: (_ for _ in ()).throw(AssertionError('sampled')))
    model = PymcModel(demo.data, **roles, time_varying_media=True)
    with pytest.raises(ClientDataError) as err:
        call(model)
    assert message in str(err.value)
