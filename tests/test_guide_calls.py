"""The README's and the user guide's calls work as written: each runs in a fresh interpreter that imports only
what it shows, so a method that needs an extra import fails here. The one change made to the text is the
sampler size (small draws: this checks that the calls work, not what they estimate)."""
import re, shutil, subprocess, sys, textwrap
from pathlib import Path

from conftest import ROOT

QUICK = "chains=2, draws=60, tune=60, random_seed=7, "  # given to PymcModel(...), which every fit and fleet then uses

def readme_python() -> str:
    "Every ```python block of the README, in order, as one script."
    return '\n'.join(re.findall(r'```python\n(.*?)```', (ROOT / 'README.md').read_text(), flags=re.S))

def quick(script: str, models: int = 1) -> str:
    "`script` with small sampler settings given to each `PymcModel(` call (there must be `models` of them)."
    assert script.count('PymcModel(') == models, f"expected {models} PymcModel( call(s) in the snippet"
    return script.replace('PymcModel(', 'PymcModel(' + QUICK)

def run_fresh(script: str, cwd: Path) -> str:
    "Run `script` in a new interpreter in `cwd`; fail with its error's last lines if it fails."
    out = subprocess.run([sys.executable, '-c', script], cwd=cwd, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, f"the snippet failed:\n{out.stderr[-3000:]}"
    return out.stdout

def test_readme_runs_as_written(tmp_path):
    script = quick(readme_python(), models=3)   # the demo client, shop2 with its lift tests, the geo client
    assert 'import pymc_toolkit.reports' not in script and 'import pymc_toolkit\n' not in script
    (tmp_path / 'data').mkdir()
    for f in ('shop2.csv', 'shop2_lift_tests.csv', 'geo.csv', 'geo_lift_tests.csv'): shutil.copy(ROOT / 'data' / f, tmp_path / 'data' / f)
    run_fresh(script + textwrap.dedent('''
        from pathlib import Path
        for f in ('models/client0/config.json', 'out/client0/production/summary.json', 'out/client0_production.html', 'out/demo/production.html'):
            assert Path(f).stat().st_size > 0, f
        assert len(shop2.lift_test_check()) == 4 and 'calibration' in cfleet.frames
        assert '<h2>Experiments</h2>' in Path('out/shop2_production.html').read_text()
        assert '<h2>Geos</h2>' in Path('out/geo_production.html').read_text() and len(gfleet.frames['geo_metrics']) == 2 * 8
        print('README ran')'''), tmp_path)

GUIDE = '''
import pandas as pd
from pymc_toolkit.pymc_model import PymcModel

data = pd.read_csv('data/ms.csv')
target_name = 'ecommerce_revenue'
channel_names = ['snapchat_cost', 'facebook_ads_conversions_cost', 'facebook_ads_brand_awareness_cost',
                 'facebook_ads_engagement_cost', 'google_ads_video_cost', 'google_ads_shopping_cost',
                 'google_ads_search_men_cost', 'google_ads_search_kids_cost', 'google_ads_display_only_cost',
                 'google_ads_search_brand_cost', 'google_ads_search_women_cost', 'google_ads_search_others_cost',
                 'youtube_organic_views']
control_names = ['events', 'emails_delivered']
model = PymcModel(client_data=data,
                  target_name=target_name,
                  date_column='date_week',
                  channel_names=channel_names,
                  control_names=control_names,
                  lag_max=4,
                  scale_data=True,
                  saturation='michaelis_menten',
                  time_varying_media=True)
model.model_priors
model.fit()
model.summarize_variable(var_name="intercept")
rfleet = model.recovery_fleet()
rfleet.summary()
pfleet = model.production_fleet()
pfleet.summary()
hfleet = model.holdout_fleet(holdouts=[4,8,12])
hfleet[0]
pfleet.generate_report(output_html="discoveries/data/toy_prod_fleet.html")
'''

def test_user_guide_sequence_runs_as_written(tmp_path):
    "The user guide's calls, in its order, from its data file `data/ms.csv` (the bundled demo client)."
    (tmp_path / 'data').mkdir()
    shutil.copy(ROOT / 'data' / 'ms.csv', tmp_path / 'data' / 'ms.csv')
    run_fresh(quick(GUIDE) + textwrap.dedent('''
        from pathlib import Path
        assert Path('discoveries/data/toy_prod_fleet.html').stat().st_size > 100_000
        assert set(rfleet.summary()) >= {'recovery_coverage', 'healthy'} and len(hfleet) == 3
        print('guide ran')'''), tmp_path)

def test_methods_exist_as_soon_as_the_class_is_imported():
    "Fleet methods on the model and the report on a fleet, in an interpreter that imported only their classes."
    run_fresh(textwrap.dedent('''
        import sys
        from pymc_toolkit.pymc_model import PymcModel
        from pymc_toolkit.fleets import FleetResult, HoldoutFleet
        for name in ('production_fleet', 'holdout_fleet', 'recovery_fleet', 'stability_fleet', 'forecast_fleet',
                     'response_curves', 'marginal_roas', 'optimize_budget'):
            assert callable(getattr(PymcModel, name)), name
        assert callable(FleetResult.generate_report) and callable(HoldoutFleet.generate_report)
        for lazy in ('pymc_toolkit.reports', 'papermill', 'pymc_toolkit.budget'): assert lazy not in sys.modules, lazy  # imported on first call only
        '''), ROOT)
