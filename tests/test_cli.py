"""`pymc-toolkit report`: one fleet of one client outside a batch, as a person runs it from a shell."""
import subprocess, sys
from pathlib import Path

from test_batch import clients_file

def test_report_prints_what_its_fits_drew_and_the_page(tmp_path):
    path, out = clients_file(tmp_path, ids=('alpha',)), tmp_path / 'out'
    cli = Path(sys.executable).parent / 'pymc-toolkit'
    run = subprocess.run([str(cli), 'report', 'production', '--clients', str(path), '--client', 'alpha', '--out', str(out)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    page = Path(run.stdout.strip().splitlines()[-1])
    assert page == (out / 'alpha' / 'production.html').resolve() and page.stat().st_size > 0
    assert 'alpha/production: 1 fit sampled in' in run.stderr, run.stderr[-3000:]   # the fit reported its runs
    assert not list((out / 'alpha').glob('.*progress*'))   # the progress file is gone

def test_a_failed_report_says_why_in_one_line(tmp_path):
    path, out = clients_file(tmp_path, ids=('broken',)), tmp_path / 'out'   # a negative spend in row 5 of search_cost
    cli = Path(sys.executable).parent / 'pymc-toolkit'
    run = subprocess.run([str(cli), 'report', 'production', '--clients', str(path), '--client', 'broken', '--out', str(out)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 2, (run.returncode, run.stderr[-3000:])   # the client's data are at fault
    assert 'broken/production failed: ClientDataError:' in run.stderr and 'search_cost' in run.stderr, run.stderr[-3000:]
    assert 'Traceback' not in run.stderr and run.stdout == '', run.stderr[-3000:]   # no page, no traceback
    assert (out / 'broken' / 'production.ipynb').exists()   # the notebook, run up to its error, is kept
