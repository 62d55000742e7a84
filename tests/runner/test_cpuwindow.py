"""The app host's CPU over exactly the timed window: the sampler's readings, the tool's
clock, the judge's use of them (suspect shares, disturbed windows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner import cpuwindow, host_resources
from runner.judge import CpuAround, judge
from runner.load.base import HostRun, LoadResult, LoadSpec
from runner.load.execute import CLOCK_FILE, timed_window, tool_clock, wrapped
from runner.load.wrk import Wrk


def rows(*readings: tuple[float, float, float, float]) -> list[dict]:
    """(t, cpu_s, busy_s, steal_s) readings with a constant sampler cost."""
    return [
        {"t": t, "cpu_s": c, "busy_s": b, "steal_s": s, "stack_s": None, "self_s": 0.0}
        for t, c, b, s in readings
    ]


def test_a_figure_is_interpolated_between_the_readings_around_a_time():
    r = rows((10.0, 1.0, 1.0, 0.0), (11.0, 2.0, 2.0, 0.0))
    assert cpuwindow.at(r, 10.25, "cpu_s") == pytest.approx(1.25)
    assert cpuwindow.at(r, 11.0, "cpu_s") == pytest.approx(2.0)
    assert cpuwindow.at(r, 9.0, "cpu_s") is None  # before the first reading
    assert cpuwindow.at(r, 12.0, "cpu_s") is None


def test_the_window_leaves_out_what_the_host_did_before_and_after_it():
    # Busy 100% of one CPU only between t=1 and t=3 (the load); idle before and after
    # except a burst of 0.5 s at t=0..0.5 (an SSH session, a probe's start-up).
    r = rows(
        (0.0, 0.0, 0.0, 0.0),
        (0.5, 0.5, 0.5, 0.0),
        (1.0, 0.5, 0.5, 0.0),
        (2.0, 1.5, 1.5, 0.0),
        (3.0, 2.5, 2.5, 0.0),
        (4.0, 2.5, 2.5, 0.0),
    )
    w = cpuwindow.over(r, 1.0, 3.0, cpus=1)
    assert w is not None
    assert w.app_cpu_s == pytest.approx(2.0)  # around the run it would be 2.5
    assert w.app_share == pytest.approx(1.0)
    assert cpuwindow.over(r, 3.0, 5.0, cpus=1) is None  # the sampler stopped before the end


def test_the_samplers_own_cpu_is_left_out_and_outside_work_is_what_the_stack_did_not_do():
    r = [
        {"t": 0.0, "cpu_s": 0.0, "busy_s": 0.0, "steal_s": 0.0, "stack_s": 0.0, "self_s": 0.0},
        {"t": 2.0, "cpu_s": 1.0, "busy_s": 1.7, "steal_s": 0.1, "stack_s": 1.2, "self_s": 0.04},
    ]
    r[0]["kernel_s"], r[1]["kernel_s"] = 0.0, 0.1  # ksoftirqd: the stack's traffic
    w = cpuwindow.over(r, 0.0, 2.0, cpus=1)
    assert w is not None
    assert w.app_cpu_s == pytest.approx(0.96)
    assert w.outside_s == pytest.approx(0.4)  # busy 1.7, the stack 1.2, ksoftirqd 0.1
    assert w.steal_s == pytest.approx(0.1)


def test_a_cut_last_line_is_left_out():
    text = json.dumps({"t": 1.0, "cpu_s": 1}) + "\n" + '{"t": 2.0, "cpu'
    assert [r["t"] for r in cpuwindow.parse(text)] == [1.0]


def test_the_tools_clock_anchors_the_window_at_its_start_for_its_own_span(tmp_path):
    runs = []
    for name, clock in (("lg1", "100.0\n103.4\n"), ("lg2", "100.2\n103.1\n")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / CLOCK_FILE).write_text(clock)
        runs.append(HostRun(name, LoadSpec(urls=("u",), concurrency=1), "", folder))
    assert timed_window(runs, 3.0) == (100.0, 103.0)  # not ab's output-writing tail
    assert timed_window(runs, 9.0) == (100.0, 103.4)  # never past the last tool's end
    assert timed_window(runs, None) is None
    (tmp_path / "lg2" / CLOCK_FILE).unlink()
    assert timed_window(runs, 3.0) is None
    assert tool_clock("garbage") is None


def test_the_wrapper_writes_the_tools_start_and_end_times():
    spec = LoadSpec(urls=("http://198.18.0.10:8000/",), concurrency=1, duration_s=1)
    command = wrapped(Wrk(), spec, "/tmp/x")
    assert command.count("date +%s.%N") == 2 and CLOCK_FILE in command
    assert command.index("date +%s.%N >") < command.index("timeout --signal=INT")


def _cpu(window: cpuwindow.WindowCpu | None, **kw) -> CpuAround:
    app = {"cpu_s": 0.0, "cpus": 1}
    after = {"cpu_s": 5.0, "cpus": 1}
    return CpuAround(10.0, app, after, [{"cpu_s": 0.0}], [{"cpu_s": 1.0, "cpus": 1}], window, **kw)


def _result() -> LoadResult:
    return LoadResult(tool="ab", completed=1000, rps=500.0, duration_s=2.0, tool_cpu_pct=10.0)


def test_the_judge_takes_the_windows_cpu_not_the_cpu_around_the_run():
    w = cpuwindow.WindowCpu(2.0, 1.0, None, 0.0, 0.0, 1)
    s = judge({"run_id": "r"} | BASE, _result(), None, _cpu(w))
    assert s.server_cpu_s_per_request == pytest.approx(0.001)
    assert s.extra["cpu_source"] == "timed window" and "cpu_suspect" not in s.extra
    around = judge({"run_id": "r"} | BASE, _result(), None, _cpu(None))
    assert around.server_cpu_s_per_request == pytest.approx(0.005)
    assert around.extra["cpu_source"].startswith("around the run")


def test_a_share_above_the_hosts_cpus_is_marked_suspect_with_the_reason():
    w = cpuwindow.WindowCpu(2.0, 2.5, None, 0.0, 0.0, 1)  # 125% of one CPU
    s = judge({"run_id": "r"} | BASE, _result(), None, _cpu(w))
    assert "125% of its 1 CPU(s)" in s.extra["cpu_suspect"]


@pytest.mark.parametrize(
    ("steal", "outside", "codes"),
    [
        (0.0, 0.0, []),
        (0.05, 0.0, ["steal"]),
        (0.0, 0.11, ["outside"]),
        (0.05, 0.2, ["steal", "outside"]),
    ],
)
def test_a_window_with_steal_or_outside_work_above_the_thresholds_is_disturbed(
    steal, outside, codes
):
    w = cpuwindow.WindowCpu(2.0, 1.0, None, steal, outside, 1)  # 2% of 2 s = 0.04 s
    s = judge({"run_id": "r"} | BASE, _result(), None, _cpu(w))
    assert s.extra.get("disturbed_by", []) == codes
    assert (s.status == "invalid") == bool(codes)
    assert ("disturbed" in s.extra.get("reason_codes", [])) == bool(codes)
    assert s.extra["disturbance"]["loadgen_cpu_pct"] == 10.0


def test_the_thresholds_are_the_plans():
    w = cpuwindow.WindowCpu(2.0, 1.0, None, 0.05, 0.0, 1)
    s = judge({"run_id": "r"} | BASE, _result(), None, _cpu(w, steal_max_pct=5.0))
    assert s.status == "ok"


BASE = {
    "mode": "asgi",
    "view": "original",
    "scenario": "plain",
    "path": "/async/plain/",
    "concurrency": 5,
    "requests": 1000,
    "repeat": 1,
    "keepalive": False,
    "serving": {},
    "commit": "x",
}


def _fake_proc(tmp_path: Path) -> Path:
    proc = tmp_path / "proc"
    for pid, comm, ticks in (("1", "a", (100, 50, 7, 3)), ("22", "we (i)rd) x", (10, 0, 0, 0))):
        (proc / pid).mkdir(parents=True)
        rest = ["S"] + ["0"] * 10 + [str(v) for v in ticks] + ["0"] * 30
        (proc / pid / "stat").write_text(f"{pid} ({comm}) " + " ".join(rest) + "\n")
    for pid, comm in (("30", "ksoftirqd/0"), ("31", "ksoftirqd/1")):
        (proc / pid).mkdir()
        (proc / pid / "comm").write_text(comm + "\n")
    (proc / "self").mkdir()
    (proc / "self" / "status").write_text("Cpus_allowed_list:\t1\n")
    (proc / "stat").write_text(
        "cpu  9 9 9 9 9 9 9 9\ncpu0 100 0 100 500 0 0 0 7\ncpu1 200 10 40 500 9 5 5 3\n"
    )
    return proc


def test_the_proc_sum_counts_every_process_and_its_reaped_children(tmp_path):
    res = host_resources.Machine(proc=_fake_proc(tmp_path))
    tick = host_resources.os.sysconf("SC_CLK_TCK")
    # utime stime cutime cstime, a comm holding spaces and a ')' read right
    assert res.procs_cpu_seconds() == pytest.approx((160 + 10) / tick)


def test_busy_and_steal_are_read_on_the_hosts_own_cpus_only(tmp_path):
    res = host_resources.Machine(proc=_fake_proc(tmp_path))
    tick = host_resources.os.sysconf("SC_CLK_TCK")
    busy, steal = res.cpus_busy_steal()  # CPU 1 only: user nice system
    assert busy == pytest.approx((200 + 10 + 40) / tick)
    assert steal == pytest.approx(3 / tick)
    assert res.stack_cpu_seconds() is None  # a whole machine: its own CPU stands in
    assert res.softirq_pids() == ["31"]  # the network's kernel thread of CPU 1 only


def test_a_v1_host_reads_the_stacks_cpu_on_its_own_cpus_from_the_parent(tmp_path):
    v1 = host_resources.CgroupV1
    acct = v1.PER_CPU_USAGE.split(".")[0]  # the accounting controller, named by v1 only
    root = tmp_path / "cgroup"
    for ctrl in ("cpuset", acct):
        (root / ctrl / "stk" / "app").mkdir(parents=True)
    (root / "cpuset" / "stk" / "app" / "cpuset.cpus").write_text("1\n")
    (root / acct / "stk" / v1.PER_CPU_USAGE).write_text("5000000000 2000000000 \n")
    paths = {"cpuset": "/stk/app", acct: "/stk/app"}
    res = v1(paths, root=root, proc=_fake_proc(tmp_path))
    assert res.stack_cpu_seconds() == pytest.approx(2.0)
