"""A real 2-node Ray cluster (ray.cluster_utils.Cluster) for the Ray executor's tests.

These tests start Ray, which outside a network namespace binds every interface and
probes a public DNS address. So they run only inside a loopback-only namespace:
tests/test_ray.py starts them there (`unshare --net`, lo up) with LTH_RAY_NETNS=1, and
tests/conftest.py leaves this folder out of any other collection. The cluster is shut
down in the fixture's teardown, and the teardown checks that no Ray process is left.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

RAY_PROCESSES = ("raylet", "gcs_server", "plasma_store", "ray::", "default_worker.py", "dashboard")


def loopback_only() -> bool:
    """True inside a network namespace whose only interface is lo (/proc/net/dev is per namespace;
    /sys/class/net shows the host's until sysfs is mounted again)."""
    try:
        lines = open("/proc/net/dev").read().splitlines()[2:]
    except OSError:
        return False
    return [line.split(":")[0].strip() for line in lines] == ["lo"]


def ray_pids() -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines()
            if any(k in line for k in RAY_PROCESSES) and "pytest" not in line]


@pytest.fixture(scope="session")
def cluster(data_dir, mnist1d):
    """Two Ray nodes of 1 CPU each on 127.0.0.1, this process connected as the driver."""
    if not loopback_only():
        pytest.fail("the Ray tests must run in a loopback-only network namespace: "
                    "unshare --net sh -c 'ip link set lo up; exec python3 -m pytest tests/ray_cluster'")
    import ray
    from ray.cluster_utils import Cluster
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    c.add_node(num_cpus=1)
    ray.init(address=c.address, log_to_driver=False)
    try:
        yield c
    finally:
        ray.shutdown()
        c.shutdown()
        deadline = time.time() + 20
        while ray_pids() and time.time() < deadline:
            time.sleep(0.5)
        left = ray_pids()
        for pid in left:  # never leave a Ray process behind, even when the check below fails
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert not left, f"Ray processes outlived the cluster: {left}"
