"""Failures that a retry cannot fix fail the Airflow task at once (AirflowFailException)."""
import pytest

from lienthong.config.settings import load_settings


def test_a_dbt_project_that_does_not_compile_is_not_retried(tmp_path, project_env):
    """A real dbt parse of a project with a broken model (a small one: parsing the warehouse's
    takes long), its result handled by the build task's operator."""
    from airflow.sdk.exceptions import AirflowFailException
    from dbt.cli.main import dbtRunner

    from lienthong.pipeline.dbt_in_airflow import dbt_build

    project = tmp_path / "dbt_project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: broken\nversion: '1.0'\nprofile: lienthong\n")
    (project / "models" / "rpt_broken.sql").write_text("select * from {{ ref('no_such_model') }}\n")
    (project / "profiles.yml").write_text(
        "lienthong:\n  target: default\n  outputs:\n    default:\n      type: postgres\n      host: 127.0.0.1\n"
        "      port: 1\n      user: x\n      password: x\n      dbname: x\n      schema: public\n")
    result = dbtRunner().invoke(["parse", "--project-dir", str(project), "--profiles-dir", str(project)])
    assert not result.success
    operator = dbt_build("dbt_test", load_settings())
    with pytest.raises(AirflowFailException, match="does not compile"):
        operator.handle_exception_dbt_runner(result)
