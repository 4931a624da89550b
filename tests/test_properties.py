"""Property-based: random malformed frames never get anything from ClientConfig but its own error or a valid config."""
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings, strategies as st

from pymc_toolkit.client_config import ClientConfig, ClientDataError

CELLS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.text(max_size=5),
                  st.none(), st.booleans())

@st.composite
def frames(draw):
    "Weekly-ish frames with random damage: wrong values, missing/renamed columns, shuffled or repeated dates."
    n = draw(st.integers(0, 40))
    start = pd.Timestamp('2023-01-01')
    step = 7 if draw(st.integers(0, 9)) < 8 else draw(st.sampled_from([0, 1, 6, 14]))
    dates = [start + pd.Timedelta(days=step * i) for i in range(n)]
    if n and draw(st.integers(0, 9)) == 0: dates = draw(st.permutations(dates))
    frame = pd.DataFrame({'week': dates})
    if draw(st.booleans()): frame['week'] = frame['week'].astype(str)
    for col in ('sales', 'tv', 'search', 'promo'):
        values = draw(st.lists(st.floats(0, 1e5, allow_nan=False), min_size=n, max_size=n))
        for _ in range(draw(st.integers(0, 3)) if draw(st.booleans()) else 0):
            if n: values[draw(st.integers(0, n - 1))] = draw(CELLS)
        frame[col] = pd.Series(values, dtype=object)
        if draw(st.booleans()): frame[col] = frame[col].infer_objects()
    if draw(st.integers(0, 9)) == 0: frame = frame.drop(columns=draw(st.sampled_from(list(frame.columns))))
    return frame

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_malformed_frames_get_the_toolkits_error_or_a_valid_config(frame):
    try:
        cfg = ClientConfig(frame, 'sales', 'week', ['tv', 'search'], ['promo'])
    except ClientDataError as e:
        assert str(e)                        # every refusal says why
        event('refused: ' + str(e).split(' ')[0])
        return
    event('accepted')
    # accepted: then it really is valid
    d = cfg.data
    assert d['week'].is_monotonic_increasing and (d['week'].diff().dropna() == pd.Timedelta(days=7)).all()
    values = d[['sales', 'tv', 'search', 'promo']].to_numpy(float)
    assert np.isfinite(values).all() and (d[['tv', 'search']] >= 0).all().all()
    assert d['sales'].nunique() > 1 and (d[['tv', 'search']] != 0).any().all()
    assert all(np.isfinite(v) and v > 0 for v in cfg.scales.values())
