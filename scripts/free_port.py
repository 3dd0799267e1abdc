"""Ports for processes a test or benchmark configures before they bind.

A port found by binding port 0 comes from the kernel's ephemeral range. Between closing it
and Envoy binding it, the kernel may give the same port to a mock upstream's bind(0) or to a
client connection's local end, and Envoy exits with "Address already in use". So the ports
handed out here come from below the ephemeral range: the kernel never picks them on its own,
and a port is never handed out twice by one process.
"""

import random
import socket
import threading

_LOW = 20000  # above the well-known and registered ports most services use
_given = set()
_lock = threading.Lock()


def _ephemeral_floor():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port():
    """A loopback port outside the ephemeral range that is free now and new to this process."""
    high = _ephemeral_floor() - 1
    with _lock:
        for _ in range(1000):
            port = random.randint(_LOW, high)
            if port not in _given and _bindable(port):
                _given.add(port)
                return port
    raise RuntimeError(f"no free loopback port between {_LOW} and {high}")
