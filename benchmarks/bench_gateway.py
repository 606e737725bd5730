"""Load test of the caching gateway on loopback: what it adds to a miss, what a hit costs.

    python benchmarks/bench_gateway.py                   # defaults: 20 ms upstream, 1/16/64 clients
    python benchmarks/bench_gateway.py --latency 0.05 --requests 400

Starts, as separate processes on 127.0.0.1, the fake provider
(``omnicache_ai.testing.fake_provider``, answering after ``--latency`` seconds) and
``omnicache serve`` in front of it (in-memory cache, one worker), then measures with an async
httpx client:

* **direct**: the fake provider called directly (the baseline every figure is compared to);
* **miss**: distinct requests through the gateway (each goes upstream): the added latency is
  miss p50/p99 minus direct p50/p99;
* **hit**: one cached request repeated, at 1, 16 and 64 concurrent clients: latency p50/p99
  and throughput;
* the gateway's resident memory after the run.

Every loop is bounded by ``--requests``; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: process exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _body(i: int | None) -> dict[str, Any]:
    text = "What is 2+2?" if i is None else f"Question number {i}?"
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}


async def _run(url: str, bodies: list[dict[str, Any]], clients: int) -> tuple[list[float], float]:
    """POST every body with ``clients`` in flight; (latencies in ms, wall seconds)."""
    latencies: list[float] = []
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": "Bearer sk-bench"}
    async with httpx.AsyncClient(limits=limits, timeout=60, headers=headers) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                start = time.perf_counter()
                reply = await client.post(url, json=body)
                latencies.append((time.perf_counter() - start) * 1000)
                if reply.status_code != 200:
                    raise SystemExit(f"HTTP {reply.status_code}: {reply.text[:200]}")

        wall = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies, time.perf_counter() - wall


def _q(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def write_svg(path: Path, rows: list[tuple[str, float, float]], title: str) -> None:
    """A dependency-free bar chart: p50 and p99 latency (ms) per row."""
    width, bar_h, gap, left = 760, 16, 14, 190
    top = 40
    height = top + len(rows) * (2 * bar_h + gap) + 30
    peak = max(p99 for _, _, p99 in rows) or 1.0
    scale = (width - left - 90) / peak
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="22" font-size="14" font-weight="bold">{title}</text>',
    ]
    y = top
    for label, p50, p99 in rows:
        out.append(f'<text x="10" y="{y + bar_h + 4}">{label}</text>')
        for i, (name, value, color) in enumerate(
            (("p50", p50, "#3f51b5"), ("p99", p99, "#9fa8da"))
        ):
            yy = y + i * bar_h
            w = max(1.0, value * scale)
            out.append(
                f'<rect x="{left}" y="{yy}" width="{w:.1f}" height="{bar_h - 2}" fill="{color}"/>'
            )
            out.append(
                f'<text x="{left + w + 4:.1f}" y="{yy + bar_h - 5}">{name} {value:.1f} ms</text>'
            )
        y += 2 * bar_h + gap
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.02, help="upstream seconds per answer")
    parser.add_argument("--requests", type=int, default=300, help="requests per measurement")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--svg", type=Path, help="also write a latency chart (SVG) here")
    args = parser.parse_args()

    up_port, gw_port = _port(), _port()
    env = {**os.environ, "FAKE_PROVIDER_LATENCY": str(args.latency), "OMNICACHE_BACKEND": "memory"}
    upstream = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "omnicache_ai.testing.fake_provider:create",
         "--factory", "--host", "127.0.0.1", "--port", str(up_port), "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    gateway = subprocess.Popen(
        [sys.executable, "-m", "omnicache_ai", "serve", "--upstream", f"http://127.0.0.1:{up_port}",
         "--port", str(gw_port), "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{up_port}/", upstream)
        _wait(f"http://127.0.0.1:{gw_port}/healthz", gateway)
        direct_url = f"http://127.0.0.1:{up_port}/v1/chat/completions"
        gw_url = f"http://127.0.0.1:{gw_port}/v1/chat/completions"
        n = args.requests
        ms = args.latency * 1000
        print(f"# omnicache gateway on loopback; upstream answers after {ms:.0f} ms;"
              f" {n} requests per row; {os.cpu_count()} cores")  # fmt: skip
        asyncio.run(_run(gw_url, [_body(None)], 1))  # warm: the hit entry, connections
        direct, _ = asyncio.run(_run(direct_url, [_body(i) for i in range(n)], 1))
        miss, _ = asyncio.run(_run(gw_url, [_body(10_000 + i) for i in range(n)], 1))
        print(f"direct upstream      p50 {_q(direct, 50):7.2f} ms   p99 {_q(direct, 99):7.2f} ms")
        print(f"miss via gateway     p50 {_q(miss, 50):7.2f} ms   p99 {_q(miss, 99):7.2f} ms")
        print(f"added by a miss      p50 {_q(miss, 50) - _q(direct, 50):+7.2f} ms   "
              f"p99 {_q(miss, 99) - _q(direct, 99):+7.2f} ms")  # fmt: skip
        chart = [
            ("direct upstream", _q(direct, 50), _q(direct, 99)),
            ("miss via gateway", _q(miss, 50), _q(miss, 99)),
        ]
        for clients in args.clients:
            hits, wall = asyncio.run(_run(gw_url, [_body(None)] * n, clients))
            chart.append((f"hit, {clients} clients", _q(hits, 50), _q(hits, 99)))
            print(f"hit, {clients:3d} clients      p50 {_q(hits, 50):7.2f} ms   "
                  f"p99 {_q(hits, 99):7.2f} ms   {n / wall:8.0f} req/s")  # fmt: skip
        for clients in args.clients:
            direct_c, wall = asyncio.run(_run(direct_url, [_body(i) for i in range(n)], clients))
            print(f"direct, {clients:3d} clients   p50 {_q(direct_c, 50):7.2f} ms   "
                  f"p99 {_q(direct_c, 99):7.2f} ms   {n / wall:8.0f} req/s")  # fmt: skip
        print(f"gateway RSS after the run: {_rss_mib(gateway.pid):.0f} MiB")
        if args.svg:
            write_svg(args.svg, chart, f"omnicache gateway, loopback, upstream {ms:.0f} ms")
            print(f"chart: {args.svg}")
    finally:
        for proc in (gateway, upstream):
            proc.send_signal(signal.SIGTERM)
        for proc in (gateway, upstream):
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
