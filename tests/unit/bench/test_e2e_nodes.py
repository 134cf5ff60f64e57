"""bench/e2e.py's reading of a build log: dbt's seconds per node, per kind, and the slowest."""
from __future__ import annotations

LOG = """\
2026-12-06T07:14:02Z [info     ] data tests: all
\x1b[0m07:08:51  2 of 109 OK loaded seed file reference.admin_provinces ......... [\x1b[32mINSERT 4\x1b[0m in 0.42s]
07:08:53  6 of 109 PASS source_accepted_values_landing_batches_status__loaded__held  [\x1b[32mPASS\x1b[0m in 0.17s]
07:08:54  27 of 109 OK created sql view model staging.stg_a__roster  [CREATE VIEW in 0.11s]
07:08:54  28 of 109 START sql view model staging.stg_b__roster ........ [RUN]
07:11:01  40 of 281 OK created sql incremental model intermediate.int_review__records .. [SELECT 9 in 6.16s]
07:11:02  41 of 281 OK created sql table model bi.agg_activity_by_commune ........ [SELECT 7056 in 7.64s]
07:11:03  42 of 281 OK snapshotted snapshots.snp_memberships ..................... [INSERT 0 3 in 1.19s]
07:11:04  43 of 281 WARN 2 unique_x ............................................. [WARN 2 in 0.30s]
07:11:09  Finished running 1 seed, 1 view model in 0 hours 0 minutes and 11.28 seconds (11.28s).
"""


def test_the_seconds_dbt_printed_per_node_summed_per_kind_with_the_slowest(bench, tmp_path):
    log = tmp_path / "warehouse_build.log"
    log.write_text(LOG)
    nodes = bench("e2e").dbt_node_seconds(log, top=2)
    assert nodes["nodes"] == 7
    assert nodes["node_seconds"] == round(0.42 + 0.17 + 0.11 + 6.16 + 7.64 + 1.19 + 0.30, 1)
    assert nodes["by_kind"] == {"data test": {"nodes": 2, "seconds": 0.5}, "incremental": {"nodes": 1, "seconds": 6.2},
                                "seed": {"nodes": 1, "seconds": 0.4}, "snapshot": {"nodes": 1, "seconds": 1.2},
                                "table": {"nodes": 1, "seconds": 7.6}, "view": {"nodes": 1, "seconds": 0.1}}
    assert "unique_x" in {name for name, _kind, _s in bench("e2e").dbt_node_seconds(log)["slowest"]}
    assert nodes["slowest"] == [["bi.agg_activity_by_commune", "table", 7.64],
                                ["intermediate.int_review__records", "incremental", 6.16]]
