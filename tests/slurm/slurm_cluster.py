"""A real single-node Slurm cluster started inside the test run, everything under one temporary directory.

What it does (see the project's HPC notes for why each piece is there):

* munged with a fresh random key and a private socket (no system munge needed, none touched);
* slurm.conf with free TCP ports, ``SlurmUser=root``, no cgroups (``proctrack/linuxproc``, ``task/none``),
  ``select/cons_tres`` + ``CR_Core_Memory`` + ``DefMemPerCPU`` (so jobs share the node), no accounting
  database (``accounting_storage/none``): Snakemake must poll with ``--slurm-status-command squeue``
  (``MinJobAge=300`` keeps finished jobs visible to squeue long enough);
* ``slurmctld -D -i`` and ``slurmd -D -N localhost`` in the foreground, so their pids are ours;
* a ``bin/`` directory of wrappers (srun, sbatch, squeue, ...) that export ``SLURM_CONF``: put it first on PATH.
  The executor plugin's job step calls a nested ``srun`` after stripping every ``SLURM_*`` variable, including
  ``SLURM_CONF``; the wrapper brings it back without writing /etc/slurm/slurm.conf;
* waits until ``sinfo`` reports the node idle;
* on exit, whatever happened: cancels our jobs, then SIGTERM and (after a grace period) SIGKILL to every daemon
  and job-step process it started, by pid.

Use ``with slurm_cluster(tmp_dir) as cluster: subprocess.run(..., env=cluster.env)``. ``SlurmUnavailable`` is
raised when Slurm cannot run here at all (not root, binaries missing and not installable); tests turn it into a
skip. A cluster that should start but does not raises ``RuntimeError`` with the daemons' log tails.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("srun", "sbatch", "squeue", "scontrol", "sinfo", "scancel", "sacct", "sacctmgr", "sshare")
REQUIRED_CLIENTS = ("srun", "sbatch", "squeue", "scontrol", "sinfo", "scancel")
DEBIAN_PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin", "/bin"])
PARTITION = "debug"


class SlurmUnavailable(Exception):
    """Slurm cannot be started on this machine (the reason is the message)."""


@dataclass
class SlurmCluster:
    base: Path
    conf: Path
    bin_dir: Path
    cpus: int
    mem_mb: int
    partition: str = PARTITION
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """Environment for processes that talk to this cluster (wrappers first on PATH, SLURM_CONF set)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
        env["SLURM_CONF"] = str(self.conf)
        venv_bin = str(Path(sys.executable).parent)
        env["PATH"] = os.pathsep.join([str(self.bin_dir), venv_bin, SEARCH_PATH])
        return env

    def run(self, *cmd: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, env=self.env)

    def node_state(self) -> str:
        try:
            proc = self.run("sinfo", "-h", "-N", "-o", "%T", timeout=10)
        except subprocess.TimeoutExpired:
            return "timeout"
        return proc.stdout.strip() if proc.returncode == 0 else f"error: {proc.stderr.strip()}"

    def logs(self, lines: int = 25) -> str:
        out = []
        for name in ("munged.log", "slurmctld.log", "slurmd.log", "munged.out", "slurmctld.out", "slurmd.out"):
            path = self.base / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {path} (last {len(tail)} lines)\n" + "\n".join(tail))
        return "\n".join(out)


def _which(name: str) -> str | None:
    return shutil.which(name, path=SEARCH_PATH)


def _missing_binaries() -> list[str]:
    return [name for name in (*DAEMONS, *REQUIRED_CLIENTS) if not _which(name)]


def _install_packages() -> None:
    """Install the Debian packages (root only, the same ones scripts/setup.sh --test installs)."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *DEBIAN_PACKAGES],
    ):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        if proc.returncode != 0:
            raise SlurmUnavailable(f"`{' '.join(cmd)}` failed: {proc.stderr.strip()[-500:]}")


def check_available(install: bool = True) -> None:
    """Raise SlurmUnavailable unless a private Slurm can be started (installing the packages if root may)."""
    if not sys.platform.startswith("linux"):
        raise SlurmUnavailable("a test Slurm cluster needs Linux")
    if os.geteuid() != 0:
        raise SlurmUnavailable(
            "starting slurmd/slurmctld/munged needs root (run the Slurm test as root, e.g. in the CI container)"
        )
    missing = _missing_binaries()
    if missing and install and _which("apt-get") and not os.environ.get("DIRA_SLURM_NO_INSTALL"):
        _install_packages()
        missing = _missing_binaries()
    if missing:
        raise SlurmUnavailable(
            f"Slurm binaries missing: {', '.join(missing)} (apt-get install -y {' '.join(DEBIAN_PACKAGES)})"
        )


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _node_hardware() -> tuple[int, int]:
    """CPUs and memory (MiB) that slurmd detects (``slurmd -C``), memory minus 2 GiB for the system."""
    cpus = len(os.sched_getaffinity(0))
    mem = 0
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([_which("slurmd") or "slurmd", "-C"], capture_output=True, text=True, timeout=30).stdout
        if m := re.search(r"\bCPUs=(\d+)", out):
            cpus = int(m.group(1))
        if m := re.search(r"\bRealMemory=(\d+)", out):
            mem = int(m.group(1))
    if not mem:
        with open("/proc/meminfo") as fh:
            mem = int(next(line.split()[1] for line in fh if line.startswith("MemTotal:"))) // 1024
    return cpus, max(1000, mem - 2048)


def _write_config(base: Path, cpus: int, mem_mb: int) -> Path:
    ctld_port, slurmd_port = _free_ports(2)
    for sub in ("state", "spool"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    conf = base / "slurm.conf"
    conf.write_text(f"""\
# Test cluster written by tests/slurm/slurm_cluster.py
ClusterName=diratest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={base}/munge.socket.2
CredType=cred/munge
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool
SlurmctldPidFile={base}/slurmctld.pid
SlurmdPidFile={base}/slurmd.pid
SlurmctldLogFile={base}/slurmctld.log
SlurmdLogFile={base}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=300
KillWait=5
InactiveLimit=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes=localhost Default=YES MaxTime=INFINITE State=UP DefMemPerCPU=1000
""")
    return conf


def _write_wrappers(bin_dir: Path, conf: Path) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in CLIENTS:
        real = _which(name)
        if not real:
            continue
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nSLURM_CONF="{conf}"\nexport SLURM_CONF\nexec "{real}" "$@"\n')
        wrapper.chmod(0o755)


def _process_table() -> dict[int, int]:
    """pid -> parent pid of every live process."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                table[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    return table


def _descendants(roots: list[int], table: dict[int, int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _uses_dir(pid: int, base: Path) -> bool:
    """Whether pid runs in, or holds a file open under, base (how our slurmstepd processes are recognised:
    slurmd double-forks them away, so they are not its descendants)."""
    prefix = str(base) + os.sep
    with contextlib.suppress(OSError):
        if (os.readlink(f"/proc/{pid}/cwd") + os.sep).startswith(prefix):
            return True
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(prefix):
                    return True
    return False


def _job_processes(base: Path, daemon_pids: list[int]) -> list[int]:
    """Job-step processes our slurmd started (slurmstepd and what runs under it), not the daemons themselves."""
    table = _process_table()
    me = os.getpid()
    steps = [
        pid
        for pid in table
        if pid not in daemon_pids
        and pid != me
        and _uses_dir(pid, base)
        and "slurmstepd" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    ]
    found = set(steps) | set(_descendants(steps, table)) | set(_descendants(daemon_pids, table))
    return sorted(found - set(daemon_pids))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie child of ours counts as gone
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _terminate(pids: list[int], grace: float) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _die_with_parent() -> None:
    """In the forked daemon: get SIGTERM if the test process dies without cleaning up (e.g. SIGKILL)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def slurm_cluster(base: Path, start_timeout: float = 90, install: bool = True) -> Iterator[SlurmCluster]:
    """Start munged + slurmctld + slurmd under ``base``; always stop them again (by pid) on exit."""
    check_available(install=install)
    base = Path(base).resolve()
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    cpus, mem_mb = _node_hardware()
    conf = _write_config(base, cpus, mem_mb)
    cluster = SlurmCluster(base=base, conf=conf, bin_dir=base / "bin", cpus=cpus, mem_mb=mem_mb)
    _write_wrappers(cluster.bin_dir, conf)
    key = base / "munge.key"
    key.write_bytes(secrets.token_bytes(1024))
    key.chmod(0o600)

    procs: dict[str, subprocess.Popen] = {}
    handles = []

    def start(name: str, cmd: list[str]) -> None:
        out = open(base / f"{name}.out", "w")  # noqa: SIM115 - closed in the finally block
        handles.append(out)
        procs[name] = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=cluster.env,
            cwd=base,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        cluster.pids[name] = procs[name].pid

    try:
        start(
            "munged",
            [
                _which("munged"),
                "--foreground",
                "--force",
                f"--key-file={key}",
                f"--socket={base}/munge.socket.2",
                f"--pid-file={base}/munged.pid",
                f"--log-file={base}/munged.log",
                f"--seed-file={base}/munged.seed",
            ],
        )
        _wait_for(lambda: (base / "munge.socket.2").exists(), 20, "munged socket", cluster, procs)
        start("slurmctld", [_which("slurmctld"), "-D", "-c", "-i", "-f", str(conf)])
        _wait_for(
            lambda: cluster.run("scontrol", "ping", timeout=10).stdout.count("UP") > 0,
            start_timeout,
            "slurmctld answering `scontrol ping`",
            cluster,
            procs,
        )
        start("slurmd", [_which("slurmd"), "-D", "-N", "localhost", "-f", str(conf)])
        _wait_for(lambda: cluster.node_state() == "idle", start_timeout, "node idle in sinfo", cluster, procs)
        yield cluster
    finally:
        _shutdown(cluster, procs)
        for handle in handles:
            handle.close()


def _wait_for(check, timeout: float, what: str, cluster: SlurmCluster, procs: dict[str, subprocess.Popen]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} while waiting for {what}\n{cluster.logs()}")
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            if check():
                return
        time.sleep(0.5)
    raise RuntimeError(
        f"timed out after {timeout:.0f} s waiting for {what} (node state: {cluster.node_state()!r})\n{cluster.logs()}"
    )


def _shutdown(cluster: SlurmCluster, procs: dict[str, subprocess.Popen]) -> None:
    daemons = {name: proc.pid for name, proc in procs.items()}
    if "slurmctld" in procs and procs["slurmctld"].poll() is None:
        # Cancel our jobs and give slurmd a moment to end their steps itself.
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.run("scancel", "--partition", cluster.partition, timeout=15)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                left = cluster.run("squeue", "-h", "-t", "PD,CF,R,CG,S", "-o", "%i", timeout=10)
                if left.returncode != 0 or not left.stdout.strip():
                    break
                time.sleep(0.5)
    # Whatever is left of the job steps, and the daemons: SIGTERM together, SIGKILL after a grace period
    # (slurmctld can hang for ~10 s in its state save after SIGTERM; nothing of this cluster needs saving).
    with contextlib.suppress(OSError):
        pids = _job_processes(cluster.base, list(daemons.values()))
        _terminate(pids + [pid for pid in daemons.values() if pid not in pids], grace=5)
    for proc in procs.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    # slurmctld's helper (slurmscriptd) and anything else that outlived its parent.
    with contextlib.suppress(OSError):
        _terminate(_job_processes(cluster.base, []), grace=5)
