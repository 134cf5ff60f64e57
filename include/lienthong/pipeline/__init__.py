"""Running the DAGs: Airflow's environment for this project, and the nightly run."""
