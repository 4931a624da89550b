"""The project's own invariants: notebooks and package in sync, README from index.ipynb, demo data reproducible."""
import filecmp, json, shutil, subprocess, sys, tempfile
from pathlib import Path

from conftest import ROOT
import pandas as pd

from pymc_toolkit.demo_data import SECOND_CLIENT, assert_close_json, assert_same_client_data, write_demo_client

def test_nbdev_export_changes_nothing(tmp_path):
    for name in ('nbs', 'pymc_toolkit'): shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copy(ROOT / 'settings.ini', tmp_path)
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / 'nbdev_export')], cwd=tmp_path, check=True, capture_output=True)
    cmp = filecmp.dircmp(ROOT / 'pymc_toolkit', tmp_path / 'pymc_toolkit', ignore=['__pycache__'])
    assert not cmp.diff_files and not cmp.left_only and not cmp.right_only, \
        f"nbdev_export changed {cmp.diff_files + cmp.left_only + cmp.right_only}: edit the notebooks and export"

def test_readme_is_generated_from_index():
    out = subprocess.run([sys.executable, str(ROOT / 'tools' / 'make-readme'), '--check'], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr

def test_committed_demo_data_is_reproducible(tmp_path):
    # Written on another machine, so compared as numbers within their tolerances (00_demo_data says which), not as text.
    for name, kwargs in (('ms', {}), ('shop2', SECOND_CLIENT)):
        csv, truth = write_demo_client(tmp_path, name, **kwargs)
        assert_same_client_data(pd.read_csv(csv), pd.read_csv(ROOT / 'data' / f'{name}.csv'))
        assert_close_json(json.loads(truth.read_text()), json.loads((ROOT / 'data' / f'{name}_truth.json').read_text()))

def test_notebooks_are_committed_clean():
    for nb in (ROOT / 'nbs').glob('*.ipynb'):
        cells = json.loads(nb.read_text())['cells']
        assert not any(c.get('outputs') for c in cells if c['cell_type'] == 'code'), f"{nb.name} has outputs: run make clean-nbs"

def test_a_wheel_holds_the_templates_and_builds_without_packaging_warnings(tmp_path):
    "A non-editable install gets every fleet's notebook and the offline renderer's template; the build warns about nothing."
    src = tmp_path / 'src'
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns('.venv', '.git', '_docs', 'out', 'build', '*.egg-info', '__pycache__', 'nbs'))
    out = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '.', '--no-deps', '--no-build-isolation', '-v', '-w', str(tmp_path / 'whl')],
                         cwd=src, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    noise = [l for l in (out.stdout + out.stderr).splitlines() if 'would be ignored' in l or 'Warning:' in l or "no files found" in l]
    assert not noise, noise[:10]
    import zipfile
    names = zipfile.ZipFile(next((tmp_path / 'whl').glob('*.whl'))).namelist()
    for fleet in ('production', 'holdout', 'recovery', 'stability', 'forecast', 'budget'):
        assert f'pymc_toolkit/templates/{fleet}.ipynb' in names, fleet
    assert 'pymc_toolkit/templates/nbconvert/offline/index.html.j2' in names
