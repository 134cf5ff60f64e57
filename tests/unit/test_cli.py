import subprocess
import sys

from click.testing import CliRunner

from lienthong.cli import main


def test_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("db", "run", "backfill", "airflow", "dbt", "generate", "serve-sample-api", "link", "access"):
        assert f"  {name} " in result.output


def test_the_cli_starts_without_importing_heavy_packages():
    code = "import sys, lienthong.cli; print(sorted(m for m in ('splink', 'pandas', 'duckdb') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_lazy_groups_resolve_on_use():
    result = CliRunner().invoke(main, ["link", "--help"])
    assert result.exit_code == 0 and "explain" in result.output


def test_status_of_a_stopped_embedded_warehouse(tmp_path, monkeypatch):
    monkeypatch.delenv("LIENTHONG_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["db", "status"])
    assert result.exit_code == 3 and "stopped" in result.output


def test_backfill_refuses_a_reversed_range_and_unknown_organisations():
    runner = CliRunner()
    reversed_range = runner.invoke(main, ["backfill", "--from", "2026-11-27", "--to", "2026-11-01"])
    assert reversed_range.exit_code != 0 and "before --from" in reversed_range.output
    unknown = runner.invoke(main, ["backfill", "--org", "hoi_xyz", "--from", "2026-11-01", "--to", "2026-11-02"])
    assert unknown.exit_code != 0 and "hoi_xyz" in unknown.output and "hoi_lhpn" in unknown.output
