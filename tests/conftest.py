import ipaddress
import os
import socket

import pytest
import torch

os.environ.setdefault("NNPRACTICE_SCALE", "cpu")

_real_connect = socket.socket.connect


def _loopback_only_connect(sock, address):
    """Tests run with no network: any connection beyond this machine fails loudly."""
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise OSError(f"tests must not use the network: connection to {address!r} blocked")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only_connect)
    yield


@pytest.fixture(autouse=True)
def _one_thread_and_seed():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
