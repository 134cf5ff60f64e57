"""The embedded warehouse's lifecycle and the errors a data engineer meets."""
import os
import pwd
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from lienthong.ports import free_port
from lienthong.warehouse import WarehouseError, connect, resolve_url
from lienthong.warehouse.embedded import EmbeddedPostgres, EmbeddedPostgresError, account_lock

pytestmark = pytest.mark.timing  # starts and stops servers


@pytest.fixture
def server():
    base = Path(tempfile.mkdtemp(prefix="lienthong-test-pg-"))  # see conftest: not under pytest's tmp
    server = EmbeddedPostgres(base / "pgdata", free_port())
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


def test_starting_twice_is_harmless_and_reuses_the_server(server):
    url = server.start()
    pid = server.status().pid
    assert server.start() == url
    assert server.status().pid == pid
    with connect(url) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == "lienthong"
    assert server.stop() is True
    assert server.status().running is False
    assert server.stop() is False
    # Data survives a stop/start.
    assert server.start() == url


def test_a_spilling_query_fails_alone_before_the_disk_is_full(server):
    url = server.start()
    with connect(url) as conn:
        limit_kb = int(conn.execute("select setting from pg_settings where name = 'temp_file_limit'").fetchone()[0])
        assert 0 < limit_kb <= shutil.disk_usage(server.pgdata).free // 1024 // 2
        conn.execute("set work_mem = '64kB'")
        conn.execute("set temp_file_limit = '1MB'")  # what the server's own limit does, at a testable size
        with pytest.raises(Exception, match="temp_file_limit"):
            conn.execute("select count(*) from (select g from generate_series(1, 2000000) as g order by g) as s")


def test_the_state_folder_and_the_server_log_are_the_owners_alone(server):
    state = server.pgdata.parent
    state.chmod(0o755)  # as an older version left it
    server.start()
    with connect(server.url()) as conn:  # a failed statement's values go to the log
        with pytest.raises(Exception):
            conn.execute("select 'Nguyễn Thị Lan 072185001234'::date")
    assert stat.S_IMODE(server.log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(server.secret_file.stat().st_mode) == 0o600
    mode = stat.S_IMODE(state.stat().st_mode)
    if os.geteuid() == 0:  # the server's own account traverses to its data through the folder's group
        assert mode == 0o710 and state.stat().st_gid == pwd.getpwnam(server._system_user).pw_gid
    else:
        assert mode == 0o700
    for path in state.rglob("*"):
        if not path.is_symlink():
            assert stat.S_IMODE(path.stat().st_mode) & 0o007 == 0, path


def test_listens_on_loopback_tcp_with_a_password(server):
    url = server.start()
    assert "@127.0.0.1:" in url
    wrong = url.replace(url.split(":")[2].split("@")[0], "wrong-password")
    with pytest.raises(WarehouseError, match="password authentication failed"):
        connect(wrong)


def test_a_taken_port_gives_a_clear_error(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(EmbeddedPostgresError, match=f"Port {port} .* in use .*LIENTHONG_PG_PORT"):
            EmbeddedPostgres(tmp_path / "pgdata", port).start()


def test_a_damaged_data_folder_gives_a_clear_error(tmp_path):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "stray.txt").write_text("not a database")
    with pytest.raises(EmbeddedPostgresError, match="not a PostgreSQL data folder.*lienthong db reset"):
        EmbeddedPostgres(pgdata, free_port()).start()


def test_a_wrong_warehouse_url_says_what_to_do_and_hides_the_password(monkeypatch):
    monkeypatch.setenv("LIENTHONG_WAREHOUSE_URL", f"postgresql://bi:topsecret@127.0.0.1:{free_port()}/lienthong")
    with pytest.raises(WarehouseError) as err:
        connect(resolve_url())
    message = str(err.value)
    assert "LIENTHONG_WAREHOUSE_URL" in message and "lienthong db start" in message
    assert "topsecret" not in message and "***" in message


def test_no_url_and_no_running_server_says_how_to_start_it(tmp_path, monkeypatch):
    monkeypatch.delenv("LIENTHONG_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(tmp_path))
    with pytest.raises(WarehouseError, match="lienthong db start"):
        resolve_url()


def _create_account_at_once(barrier, name, uids) -> None:
    from lienthong.warehouse.embedded import server_account

    barrier.wait()
    uids.put(server_account(name).pw_uid)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root creates the server's account")
def test_processes_starting_servers_at_once_on_a_fresh_machine_agree_on_one_account():
    # A throwaway account: the suite's own servers run as the real one, which must not be removed.
    # Forked processes released together: without the lock, six runs of six failed here.
    import multiprocessing
    import subprocess

    name = f"lt_race_{os.getpid()}"
    context = multiprocessing.get_context("fork")
    barrier, uids = context.Barrier(8), context.Queue()
    processes = [context.Process(target=_create_account_at_once, args=(barrier, name, uids)) for _ in range(8)]
    try:
        for process in processes:
            process.start()
        seen = [uids.get(timeout=60) for _ in processes]
        assert len(set(seen)) == 1
        assert pwd.getpwnam(name).pw_uid == seen[0]
    finally:
        for process in processes:
            process.join(timeout=60)
        subprocess.run(["userdel", "-r", name], capture_output=True)
        account_lock(name).unlink(missing_ok=True)
