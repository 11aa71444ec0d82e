"""Interval under load: the real server under the project's gunicorn configuration on
loopback, driven by wrk from a separate process, each scenario beside C0 (a bare Flask route
under the same configuration). Writes a table to docs/performance.md (`--write`).

    python bench/load.py [--database-url URL] [--seconds 10] [--connections 16] [--write]
    python bench/load.py --quick          # CI: a second a scenario; fails only on errors

Scenarios so far: C0; S1 ingest, PHQ-9 submissions from 1,000 patients with unique ids and
10 % replays. wrk comes from Debian (`apt-get install wrk`); the bench installs it when absent
and it can.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api import factories  # noqa: E402 - after the path, as a script
from api.app import create_app  # noqa: E402
from api.db import utcnow  # noqa: E402
from api.domain import identity  # noqa: E402
from api.migrate import upgrade  # noqa: E402

GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "python:api.gunicorn_config"]
SECRET = "bench-only-" + "b" * 48
PHQ9_ANSWERS = {str(i): 1 for i in range(1, 10)} | {"9": 0}

# wrk: each request posts a PHQ-9 for the next patient with a new id; one in ten repeats the
# request before it exactly (a phone retrying), which must answer 200.
INGEST_SCRIPT = """
local patients = dofile("%(patients)s")
local answers = '%(answers)s'
local counter, last = 0, nil
-- Each wrk thread its own random ids and its own place in the patient list.
function start()
  math.randomseed(os.time() * 1000 + number * 7919 + %(seed)d)
  counter = number * 7
end
local function uuid()
  local hex = "0123456789abcdef"
  local t = {}
  for i = 1, 32 do local r = math.random(1, 16); t[i] = hex:sub(r, r) end
  t[13] = "4"
  local s = table.concat(t)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" ..
         s:sub(17, 20) .. "-" .. s:sub(21, 32)
end
request = function()
  counter = counter + 1
  -- One request in ten repeats the one before exactly: a phone retrying a lost answer.
  if counter %% 10 == 0 and last then return last end
  local p = patients[(counter %% #patients) + 1]
  local body = '{"id": "' .. uuid() .. '", "questionnaire": "phq9", "answers": ' .. answers ..
               ', "completed_at": "%(completed_at)s"}'
  last = wrk.format("POST", "/v1/patients/" .. p.id .. "/check-ins",
    {["Authorization"] = "Bearer " .. p.token, ["Content-Type"] = "application/json"}, body)
  return last
end
"""


# Every scenario's script ends with this: statuses counted in each wrk thread and summed, and
# the latency percentiles (wrk prints no p95 of its own).
COUNTING = """
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("number", #threads)
end
function init(args)
  statuses = {}
  if start then start() end
end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  io.write(string.format("LATENCY %d %d %d\\n", latency:percentile(50),
    latency:percentile(95), latency:percentile(99)))
  local total = {}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do
      total[code] = (total[code] or 0) + count
    end
  end
  io.write("STATUSES ")
  for code, count in pairs(total) do io.write(code .. "=" .. count .. " ") end
  local e = summary.errors
  io.write(string.format("\\nSOCKET_ERRORS %d\\n", e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Result:
    scenario: str
    database: str
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    statuses: dict[str, int]
    peak_worker_mb: float


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)  # noqa: S607
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return found


def fresh_database(url: str | None, folder: Path) -> str:
    """The URL of an empty database: a file in `folder`, or the given PostgreSQL database with
    its public schema recreated."""
    if url is None:
        return f"sqlite:///{folder / 'bench.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def seed(url: str, folder: Path, patients: int) -> list[dict]:
    """A clinic with `patients` enrolled patients and a signed-in session for each."""
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "INSTANCE_DIR": str(folder),
            "ENV": "development",
        }
    )
    database = app.extensions["interval.db"]
    with database.engine.begin() as connection:
        upgrade(connection)
    settings = app.extensions["interval.identity"]
    found = []
    with database.session() as session:
        clinic = factories.clinic(session, "Load clinic")
        clinician = factories.user(session, clinic, "clinician")
        for _ in range(patients):
            account = factories.user(session, clinic, "patient")
            patient = factories.patient(session, clinic, account=account, care_team=[clinician])
            token = identity.start_session(session, settings, user=account, now=utcnow())
            found.append({"id": str(patient.id), "token": token.access_token})
        session.commit()
    database.dispose()
    return found


def serve(module: str, port: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 - gunicorn from our own environment
        [*GUNICORN, "--bind", f"127.0.0.1:{port}", module],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except urllib.error.HTTPError:
            break  # answering, if only 404
        except OSError:
            time.sleep(0.1)
    return server


def worker_memory_mb(server: subprocess.Popen) -> float:
    """The largest resident set of the server's worker processes."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)
    return max(sizes, default=0.0)


def drive(wrk: str, url: str, seconds: int, connections: int, script: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script + COUNTING)
    command = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "-s", file.name, url]
    shown = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    os.unlink(file.name)
    p50, p95, p99 = (int(v) / 1000 for v in re.search(r"LATENCY (\d+) (\d+) (\d+)", shown).groups())
    statuses = dict(re.findall(r"(\d{3})=(\d+)", shown.split("STATUSES", 1)[1]))
    errors = sum(int(n) for code, n in statuses.items() if not code.startswith("2"))
    errors += int(re.search(r"SOCKET_ERRORS (\d+)", shown).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", shown).group(1))
    return {"rps": rps, "p50": p50, "p95": p95, "p99": p99, "errors": errors, "statuses": statuses}


def run_scenario(
    name: str, module: str, path: str, script: str, env: dict, args, wrk: str
) -> Result:
    port = free_port()
    server = serve(module, port, env)
    try:
        found = drive(wrk, f"http://127.0.0.1:{port}{path}", args.seconds, args.connections, script)
        memory = worker_memory_mb(server)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    database = (
        "—" if module == "bench.floor:app" else make_url(env["DATABASE_URL"]).get_backend_name()
    )
    return Result(
        name,
        database,
        found["rps"],
        found["p50"],
        found["p95"],
        found["p99"],
        found["errors"],
        found["statuses"],
        memory,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def table(results: list[Result], floor: Result) -> str:
    lines = [
        "| scenario | database | req/s | ratio to C0 | p50 ms | p95 ms | p99 ms | errors "
        "| peak worker MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in [floor, *results]:
        lines.append(
            f"| {r.scenario} | {r.database} | {r.requests_per_second:,.0f} | "
            f"{r.requests_per_second / floor.requests_per_second:.1%} | {r.p50_ms:.1f} | "
            f"{r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | {r.peak_worker_mb:.0f} |"
        )
    return "\n".join(lines)


def ingest_script(folder: Path, patients: list[dict]) -> str:
    data = folder / "patients.lua"
    rows = ",\n".join(f'{{id = "{p["id"]}", token = "{p["token"]}"}}' for p in patients)
    data.write_text("return {\n" + rows + "\n}\n")
    completed = utcnow().replace(microsecond=0).isoformat()
    return INGEST_SCRIPT % {
        "patients": data,
        "answers": json.dumps(PHQ9_ANSWERS),
        "seed": os.getpid(),
        "completed_at": completed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="a second a scenario; errors fail")
    parser.add_argument("--write", action="store_true", help="write docs/performance.md")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.patients = 1, 50
    wrk = ensure_wrk()
    # SQLite always; PostgreSQL as well when a database is given (its schema is recreated).
    urls = [None] + ([args.database_url] if args.database_url else [])
    results = []
    floor = None
    for given in urls:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            url = fresh_database(given, folder)
            patients = seed(url, folder, args.patients)
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "INTERVAL_SECRET_KEY": SECRET,
                "INTERVAL_INSTANCE_DIR": str(folder),
                "INTERVAL_ACCESS_LOG": "0",
                "INTERVAL_LOG_LEVEL": "warning",
                "INTERVAL_CHECK_IN_RATE_LIMIT": "100000/hour",
            }
            if floor is None:
                floor = run_scenario(
                    "C0 bare Flask route", "bench.floor:app", "/", "", env, args, wrk
                )
            script = ingest_script(folder, patients)
            results.append(
                run_scenario(
                    "S1 ingest PHQ-9 (10 % replays)", "wsgi:app", "/", script, env, args, wrk
                )
            )
    assert floor is not None
    shown = table(results, floor)
    print(shown)
    for r in [floor, *results]:
        print(r.scenario, r.statuses)
    if args.write:
        write(shown, args)
    if any(r.errors for r in [floor, *results]):
        raise SystemExit("errors under load")


def write(shown: str, args) -> None:
    path = ROOT / "docs" / "performance.md"
    heading = "## Under load: gunicorn and wrk"
    text_now = path.read_text()
    body = (
        f"{heading}\n\n`python bench/load.py --write` ({args.connections} connections, "
        f"{args.seconds} s a scenario, {os.cpu_count()} cores, server and load generator on one "
        f"machine; workers from `api/gunicorn_config.py`).\n\n{shown}\n"
    )
    if heading in text_now:
        start = text_now.index(heading)
        end = text_now.find("\n## ", start + len(heading))
        text_now = text_now[:start] + body + (text_now[end:] if end != -1 else "")
    else:
        text_now = text_now.rstrip() + "\n\n" + body
    path.write_text(text_now)


if __name__ == "__main__":
    main()
