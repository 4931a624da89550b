"""Bad budget requests: each raises a `BudgetError` (a `ClientDataError`) naming the channel or setting at fault,
before PyMC-Marketing's optimizer is built or run, and writes nothing."""
import pandas as pd
import pytest
from pymc_marketing.mmm import MMM
from pymc_marketing.mmm.budget_optimizer import BudgetOptimizer

from pymc_toolkit.budget import BudgetError, optimize_budget, response_curves, marginal_roas
from pymc_toolkit.client_config import ClientDataError
from pymc_toolkit.pymc_model import PymcModel

@pytest.fixture
def no_optimizing(monkeypatch):
    "Building or running the optimizer in these tests fails the test: errors must come first."
    def refuse(*a, **k): raise AssertionError('the optimizer started before the bad request was caught')
    monkeypatch.setattr(MMM, 'budget_optimizer', refuse)
    monkeypatch.setattr(BudgetOptimizer, 'allocate_budget', refuse)

CASES = [  # (case id, keyword arguments of optimize_budget, expected message fragment)
    ('zero total', dict(total=0), 'total=0 must be a positive amount'),
    ('negative total', dict(total=-5.0), 'total=-5.0 must be a positive amount'),
    ('NaN total', dict(total=float('nan')), 'must be a positive amount'),
    ('zero weeks', dict(weeks=0), 'weeks=0 must be an integer >= 1'),
    ('fractional weeks', dict(weeks=2.5), 'weeks=2.5'),
    ('low above high', dict(bounds={'snapchat_cost': (10.0, 1.0)}), "bounds for channel 'snapchat_cost' are (10, 1)"),
    ('negative bound', dict(bounds={'snapchat_cost': (-1.0, 1.0)}), "bounds for channel 'snapchat_cost'"),
    ('unknown channel', dict(bounds={'radio_cost': (0.0, 1.0)}), "channel 'radio_cost', which client0's model does not have"),
    ('non-money channel', dict(bounds={'youtube_organic_views': (0.0, 1.0)}), "'youtube_organic_views', which is not measured in money"),
    ('relative low above high', dict(bounds=(1.5, 0.5)), 'relative bounds need 0 <= low <= high'),
    ('lows above total', dict(bounds=(1.2, 2.0)), 'Infeasible bounds: their lower ends add up to'),
    ('highs below total', dict(bounds=(0.1, 0.5)), 'Infeasible bounds: their upper ends add up to'),
    ('total beyond the highs', dict(total=1e12), 'Infeasible bounds: their upper ends'),
    ('fixed unknown', dict(fixed=['radio_cost']), "fixed names channel 'radio_cost'"),
    ('fixed non-money', dict(fixed=['youtube_organic_views']), "fixed names 'youtube_organic_views', which is not measured in money"),
    ('risk above 1', dict(risk=1.5), 'risk=1.5'),
    ('bounds of the wrong shape', dict(bounds=[1, 2, 3]), 'bounds=[1, 2, 3] must be'),
]

@pytest.mark.parametrize('kwargs,message', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_budget_request_is_named_before_optimizing(small_fit, no_optimizing, kwargs, message):
    with pytest.raises(BudgetError, match=None) as e: optimize_budget(small_fit, **kwargs)
    assert message in str(e.value), str(e.value)
    assert isinstance(e.value, ClientDataError)

def test_unfitted_and_moneyless_models(demo, roles, no_optimizing):
    unfitted = PymcModel(demo.data, **roles)
    for call in (optimize_budget, response_curves, marginal_roas):
        with pytest.raises(BudgetError, match="client0's model is not fitted"): call(unfitted)
    views = {**roles, 'channel_names': ['youtube_organic_views']}
    with pytest.raises(BudgetError, match='no money channel'): optimize_budget(PymcModel(demo.data, **views))

def test_bad_curve_requests(small_fit, no_optimizing):
    with pytest.raises(BudgetError, match="'youtube_organic_views', which is not a money channel"):
        response_curves(small_fit, spend_grid=pd.DataFrame({'youtube_organic_views': [1.0]}))
    with pytest.raises(BudgetError, match="at has no weekly spend for channel"):
        marginal_roas(small_fit, at={'snapchat_cost': 1.0})
