"""Groups of DAG runs in children forked from one started-up process (lienthong.pipeline.dag_runs
.run_forked): every child's lines reach the caller, the groups run at the same time, and a child
that dies has the runs it never reported reported failed, so the caller never waits for them."""
import io
import json
import os
import time

from lienthong.pipeline.dag_runs import run_forked


def _fake_group():
    def run_group(dag_ids, out):
        for dag_id in dag_ids:
            if dag_id == "dies":
                os._exit(3)  # as a child killed in a run: no line, no clean exit
            out.write(json.dumps({"dag_id": dag_id, "ok": dag_id != "fails", "seconds": 0.0, "log": "x",
                                  "pid": os.getpid(), "at": time.monotonic()}) + "\n")
            time.sleep(0.3)
        return True
    return run_group


def test_each_group_in_its_own_child_side_by_side(tmp_path):
    status = io.StringIO()
    waited = []
    began = time.monotonic()
    ok = run_forked([["a1", "a2"], ["b1", "fails"]], _fake_group(), status, tmp_path,
                    while_waiting=lambda: waited.append(True))
    lines = [json.loads(line) for line in status.getvalue().splitlines()]
    assert ok and waited == [True]
    assert sorted((line["dag_id"], line["ok"]) for line in lines) == [
        ("a1", True), ("a2", True), ("b1", True), ("fails", False)]
    pids = {line["dag_id"]: line["pid"] for line in lines}
    assert pids["a1"] == pids["a2"] != pids["b1"] == pids["fails"] and os.getpid() not in pids.values()
    # Side by side: two groups of two 0.3 s runs each end well before 4 × 0.3 s.
    assert time.monotonic() - began < 1.1


def test_a_child_that_dies_has_its_unreported_runs_failed(tmp_path):
    (tmp_path / "after.log").write_text("")
    status = io.StringIO()
    ok = run_forked([["before", "dies", "after"], ["other"]], _fake_group(), status, tmp_path)
    lines = sorted((line["dag_id"], line["ok"], line["log"]) for line in map(json.loads, status.getvalue().splitlines()))
    assert not ok
    assert lines == [("after", False, str(tmp_path / "after.log")), ("before", True, "x"),
                     ("dies", False, str(tmp_path)), ("other", True, "x")]
