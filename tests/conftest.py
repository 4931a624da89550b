"""Shared fixtures: the demo client, and one small fitted model shared by every test that needs a fit."""
import logging
from pathlib import Path

import pytest

from pymc_toolkit.demo_data import load_demo_client
from pymc_toolkit.pymc_model import PymcModel

ROOT = Path(__file__).resolve().parents[1]
# Small sampler settings: enough to run every step of a fit, far too short to trust its numbers.
SMALL = dict(chains=2, draws=60, tune=60, random_seed=7)

@pytest.fixture(scope='session')
def demo():
    return load_demo_client(ROOT / 'data')

@pytest.fixture(scope='session')
def roles(demo):
    t = demo.truth
    return dict(target_name=t['target'], date_column=t['date_column'], channel_names=t['channels'], control_names=t['controls'])

@pytest.fixture(scope='session')
def small_fit(demo, roles):
    "The guide's model on the demo client, fitted once with small draws."
    logging.getLogger('pymc_toolkit').setLevel(logging.INFO)
    return PymcModel(demo.data, **roles, time_varying_media=True, **SMALL).fit()
