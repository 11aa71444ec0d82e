"""Interval under load: the real server under the project's gunicorn configuration on
loopback, driven by wrk from a separate process, each scenario beside C0 (a bare Flask route
under the same configuration). Writes a table to docs/performance.md (`--write`).

    python bench/load.py [--database-url URL] [--seconds 10] [--connections 16] [--write]
    python bench/load.py --quick          # CI: a second a scenario; fails only on errors

Scenarios: C0; S1 ingest, PHQ-9 submissions from 1,000 patients with unique ids and 10 %
replays; S2 batch sync, 50-item batches with 5 % invalid items and 5 % repeats; S6 a login
storm with 20 % wrong passwords, S1 driven beside it (SQLite, and PostgreSQL when given); then,
on the last database, over a network's history (bench/dataset.py: 10,000 patients, 1,000,000
check-ins): S3 a two-year pain trend, S4 a clinic's outcomes, S5 a clinician's panel of 200 by
attention. wrk comes from Debian (`apt-get install wrk`); the bench installs it when absent
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

from redis import Redis
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api import factories  # noqa: E402 - after the path, as a script
from api.app import create_app  # noqa: E402
from api.db import utcnow  # noqa: E402
from api.domain import identity  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.models import User  # noqa: E402
from bench.dataset import PASSWORD, seed_network  # noqa: E402

GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "python:api.gunicorn_config"]
SECRET = "bench-only-" + "b" * 48
PHQ9_ANSWERS = {str(i): 1 for i in range(1, 10)} | {"9": 0}
BATCH_ITEMS = 50

UUID_FUNCTION = """
local function uuid()
  local hex = "0123456789abcdef"
  local t = {}
  for i = 1, 32 do local r = math.random(1, 16); t[i] = hex:sub(r, r) end
  t[13] = "4"
  local s = table.concat(t)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" ..
         s:sub(17, 20) .. "-" .. s:sub(21, 32)
end
"""

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
%(uuid)s
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


# wrk: each request posts a 50-item batch (an offline queue) for the next patient: one item in
# twenty cannot be scored (422 inside the 207), one in twenty repeats the item before it (200).
BATCH_SCRIPT = """
local patients = dofile("%(patients)s")
local answers = '%(answers)s'
local counter = 0
function start()
  math.randomseed(os.time() * 1000 + number * 7919 + %(seed)d + 1)
  counter = number * 7
end
%(uuid)s
request = function()
  counter = counter + 1
  local p = patients[(counter %% #patients) + 1]
  local items, previous = {}, nil
  for k = 1, %(items)d do
    local item
    if k %% 20 == 7 then
      item = '{"id": "' .. uuid() .. '", "questionnaire": "phq9", "answers": {"1": 9}, ' ..
             '"completed_at": "%(completed_at)s"}'
    elseif k %% 20 == 13 and previous then
      item = previous
    else
      item = '{"id": "' .. uuid() .. '", "questionnaire": "phq9", "answers": ' .. answers ..
             ', "completed_at": "%(completed_at)s"}'
    end
    items[k], previous = item, item
  end
  return wrk.format("POST", "/v1/patients/" .. p.id .. "/check-ins/batch",
    {["Authorization"] = "Bearer " .. p.token, ["Content-Type"] = "application/json"},
    '{"check_ins": [' .. table.concat(items, ",") .. ']}')
end
"""

# wrk: sign-ins of the seeded accounts, one in five with a wrong password.
LOGIN_SCRIPT = """
local accounts = dofile("%(accounts)s")
local counter = 0
function start() counter = number * 7 end
request = function()
  counter = counter + 1
  local a = accounts[(counter %% #accounts) + 1]
  local password = a.password
  if counter %% 5 == 0 then password = "not the password" end
  return wrk.format("POST", "/v1/auth/login", {["Content-Type"] = "application/json"},
    '{"email": "' .. a.email .. '", "password": "' .. password .. '"}')
end
"""

# wrk: the same GET again and again, as one signed-in user.
READ_SCRIPT = """
wrk.headers["Authorization"] = "Bearer %(token)s"
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
    items: int = 1


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
    """A clinic with `patients` enrolled patients (every one's password PASSWORD) and a
    signed-in session for each."""
    app = bench_app(url, folder)
    database = app.extensions["interval.db"]
    with database.engine.begin() as connection:
        upgrade(connection)
    settings = app.extensions["interval.identity"]
    password_hash = settings.passwords.hash(PASSWORD)
    found = []
    with database.session() as session:
        clinic = factories.clinic(session, "Load clinic")
        clinician = factories.user(session, clinic, "clinician")
        for _ in range(patients):
            account = factories.user(session, clinic, "patient", password_hash=password_hash)
            patient = factories.patient(session, clinic, account=account, care_team=[clinician])
            token = identity.start_session(session, settings, user=account, now=utcnow())
            found.append(
                {"id": str(patient.id), "token": token.access_token, "email": account.email}
            )
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


def wrk_command(wrk: str, url: str, seconds: int, connections: int, script: str) -> list[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script + COUNTING)
    # A slow answer is latency, not an error: wrk's 2-second default timeout would count it.
    return [
        wrk,
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        file.name,
        url,
    ]


def drive(wrk: str, url: str, seconds: int, connections: int, script: str, allowed=("2",)) -> dict:
    command = wrk_command(wrk, url, seconds, connections, script)
    shown = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    os.unlink(command[-2])
    return read_wrk(shown, allowed)


def read_wrk(shown: str, allowed=("2",)) -> dict:
    """wrk's summary and the counting script's lines: statuses other than `allowed` (prefixes)
    and socket errors are errors."""
    p50, p95, p99 = (int(v) / 1000 for v in re.search(r"LATENCY (\d+) (\d+) (\d+)", shown).groups())
    statuses = dict(re.findall(r"(\d{3})=(\d+)", shown.split("STATUSES", 1)[1]))
    errors = sum(int(n) for code, n in statuses.items() if not code.startswith(allowed))
    errors += int(re.search(r"SOCKET_ERRORS (\d+)", shown).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", shown).group(1))
    return {"rps": rps, "p50": p50, "p95": p95, "p99": p99, "errors": errors, "statuses": statuses}


@dataclass
class Scenario:
    name: str
    path: str
    script: str
    module: str = "wsgi:app"
    allowed: tuple[str, ...] = ("2",)  # statuses that are not errors (prefixes)
    items: int = 1  # check-ins a request carries (S2)
    beside: Scenario | None = None  # driven at the same time; its numbers are reported
    connections: int | None = None  # None: --connections


def run_scenario(scenario: Scenario, env: dict, args, wrk: str) -> list[Result]:
    """Serve, drive (the scenario and any beside it at once), stop; its results."""
    port = free_port()
    server = serve(scenario.module, port, env)
    base = f"http://127.0.0.1:{port}"
    beside = None
    try:
        if scenario.beside is not None:
            command = wrk_command(
                wrk,
                base + scenario.beside.path,
                args.seconds,
                args.connections,
                scenario.beside.script,
            )
            beside = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
        found = [
            drive(
                wrk,
                base + scenario.path,
                args.seconds,
                scenario.connections or args.connections,
                scenario.script,
                scenario.allowed,
            )
        ]
        if beside is not None:
            found.append(
                read_wrk(beside.communicate(timeout=args.seconds + 60)[0], scenario.beside.allowed)
            )
            os.unlink(beside.args[-2])
        memory = worker_memory_mb(server)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    database = (
        "—"
        if scenario.module == "bench.floor:app"
        else make_url(env["DATABASE_URL"]).get_backend_name()
    )
    shown = [scenario] + ([scenario.beside] if scenario.beside else [])
    return [
        Result(
            f"{s.name}" if s is scenario else f"{s.name}, during {scenario.name.split()[0]}",
            database,
            f["rps"],
            f["p50"],
            f["p95"],
            f["p99"],
            f["errors"],
            f["statuses"],
            memory,
            s.items,
        )
        for s, f in zip(shown, found, strict=True)
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def table(results: list[Result], floor: Result) -> str:
    lines = [
        "| scenario | database | req/s | check-ins/s | ratio to C0 | p50 ms | p95 ms | p99 ms "
        "| errors | peak worker MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in [floor, *results]:
        per_second = f"{r.requests_per_second * r.items:,.0f}" if r.items > 1 else "—"
        lines.append(
            f"| {r.scenario} | {r.database} | {r.requests_per_second:,.0f} | {per_second} | "
            f"{r.requests_per_second / floor.requests_per_second:.1%} | {r.p50_ms:.1f} | "
            f"{r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | {r.peak_worker_mb:.0f} |"
        )
    return "\n".join(lines)


def lua_table(folder: Path, name: str, rows: list[dict]) -> Path:
    path = folder / f"{name}.lua"
    shown = ",\n".join(
        "{" + ", ".join(f'{key} = "{value}"' for key, value in row.items()) + "}" for row in rows
    )
    path.write_text("return {\n" + shown + "\n}\n")
    return path


def script_values(folder: Path, patients: list[dict]) -> dict:
    return {
        "patients": lua_table(
            folder, "patients", [{"id": p["id"], "token": p["token"]} for p in patients]
        ),
        "accounts": lua_table(
            folder, "accounts", [{"email": p["email"], "password": PASSWORD} for p in patients]
        ),
        "answers": json.dumps(PHQ9_ANSWERS),
        "seed": os.getpid(),
        "completed_at": utcnow().replace(microsecond=0).isoformat(),
        "uuid": UUID_FUNCTION,
        "items": BATCH_ITEMS,
    }


def write_scenarios(folder: Path, patients: list[dict]) -> list[Scenario]:
    """S1, S2 and S6 against the seeded patients."""
    values = script_values(folder, patients)
    ingest = Scenario("S1 ingest PHQ-9 (10 % replays)", "/", INGEST_SCRIPT % values)
    return [
        ingest,
        Scenario(
            f"S2 batch sync ({BATCH_ITEMS} items, 5 % invalid, 5 % repeats)",
            "/",
            BATCH_SCRIPT % values,
            items=BATCH_ITEMS,
        ),
        Scenario(
            "S6 login storm (20 % wrong passwords)",
            "/",
            LOGIN_SCRIPT % values,
            allowed=("2", "401", "429"),
            beside=ingest,
        ),
    ]


def read_scenarios(url: str, folder: Path, args) -> list[Scenario]:
    """S3–S5 over a clinic network's history (bench/dataset.py), seeded into `url`."""
    app = bench_app(url, folder)
    database = app.extensions["interval.db"]
    settings = app.extensions["interval.identity"]
    registry = app.extensions["interval.questionnaires"]
    with database.engine.begin() as connection:
        upgrade(connection)
    started = time.perf_counter()
    with database.session() as session:
        network = seed_network(
            session,
            registry,
            password_hash=settings.passwords.hash(PASSWORD),
            patients=args.network_patients,
            check_ins=args.network_check_ins,
            now=utcnow(),
        )
        tokens = {
            email: identity.start_session(
                session,
                settings,
                user=session.scalar(select(User).where(User.email == email)),
                now=utcnow(),
            ).access_token
            for email in (network.clinician_email, network.admin_email)
        }
        session.commit()
    print(
        f"seeded {network.patients:,} patients and {network.check_ins:,} check-ins in "
        f"{time.perf_counter() - started:.0f} s"
    )
    settle_after_seeding(database.engine)
    client = app.test_client()
    reader = {"Authorization": f"Bearer {tokens[network.clinician_email]}"}
    paths = {
        "S3": f"/v1/patients/{network.long_history_patient_id}/trends/pain",
        "S4": f"/v1/clinics/{network.clinic_id}/outcomes?questionnaire=phq9",
        "S5": "/v1/patients?sort=attention&limit=100",
    }
    for path in paths.values():  # progress is computed when first read: read once beforehand
        assert client.get(path, headers=reader).status_code == 200, path
    database.dispose()
    clinician = READ_SCRIPT % {"token": tokens[network.clinician_email]}
    # A clinician's page view: latency with one request at a time (the targets are latencies).
    return [
        Scenario("S3 trend: two years of daily pain", paths["S3"], clinician, connections=1),
        Scenario(
            f"S4 clinic outcomes ({network.patients // 10:,} patients)",
            paths["S4"],
            clinician,
            connections=1,
        ),
        Scenario("S5 panel by attention (200 patients)", paths["S5"], clinician, connections=1),
    ]


def settle_after_seeding(engine) -> None:
    """Statistics gathered and the bulk load written out before anything is timed, as in a
    database that is not being loaded with a million rows: otherwise autovacuum and the next
    checkpoint run during the first scenarios and their slowest requests measure them."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("VACUUM (ANALYZE)"))
            connection.execute(text("CHECKPOINT"))
        else:
            connection.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--network-patients", type=int, default=10_000)
    parser.add_argument("--network-check-ins", type=int, default=1_000_000)
    parser.add_argument("--only", help="scenario names starting with these (comma-separated)")
    parser.add_argument("--quick", action="store_true", help="a second a scenario; errors fail")
    parser.add_argument("--write", action="store_true", help="write docs/performance.md")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.patients = 1, 50
        args.network_patients, args.network_check_ins = 400, 8_000
    wrk = ensure_wrk()
    # SQLite always; PostgreSQL as well when a database is given (its schema is recreated).
    # The read scenarios run on the last of them.
    urls = [None] + ([args.database_url] if args.database_url else [])
    results: list[Result] = []
    floor = None
    for n, given in enumerate(urls):
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            env = server_env(fresh_database(given, folder), folder)
            if floor is None:
                [floor] = run_scenario(
                    Scenario("C0 bare Flask route", "/", "", "bench.floor:app"), env, args, wrk
                )
            patients = seed(env["DATABASE_URL"], folder, args.patients)
            results += run_all(write_scenarios(folder, patients), env, args, wrk)
            reads = not args.only or any(name in args.only for name in ("S3", "S4", "S5"))
            if n == len(urls) - 1 and reads:
                env = server_env(fresh_database(given, folder / "network"), folder)
                results += run_all(
                    read_scenarios(env["DATABASE_URL"], folder, args), env, args, wrk
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


def run_all(scenarios: list[Scenario], env: dict, args, wrk: str) -> list[Result]:
    chosen = tuple(args.only.split(",")) if args.only else ("",)
    return [
        r for s in scenarios if s.name.startswith(chosen) for r in run_scenario(s, env, args, wrk)
    ]


def redis_url() -> str | None:
    """Redis for the rate limits, as production runs (api/config.py warns without it): the
    given BENCH_REDIS_URL, or the local one when it answers; None (each worker counting on its
    own) without."""
    given = os.environ.get("BENCH_REDIS_URL")
    if given:
        return given
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return None
    return "redis://127.0.0.1:6379/15"


def server_env(url: str, folder: Path) -> dict:
    """The server's environment; the limits' Redis database emptied, so one run's sign-ins do
    not limit the next one's."""
    redis = redis_url()
    if redis:
        Redis.from_url(redis).flushdb()
    return {
        **os.environ,
        **({"REDIS_URL": redis} if redis else {}),
        "DATABASE_URL": url,
        "INTERVAL_SECRET_KEY": SECRET,
        "INTERVAL_INSTANCE_DIR": str(folder),
        "INTERVAL_ACCESS_LOG": "0",
        "INTERVAL_LOG_LEVEL": "warning",
        "INTERVAL_CHECK_IN_RATE_LIMIT": "1000000/hour",
    }


def bench_app(url: str, folder: Path):
    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "INSTANCE_DIR": str(folder),
            "ENV": "development",
            "LOG_LEVEL": "WARNING",
        }
    )


def write(shown: str, args) -> None:
    path = ROOT / "docs" / "performance.md"
    heading = "## Under load: gunicorn and wrk"
    text_now = path.read_text()
    body = (
        f"{heading}\n\n`python bench/load.py --write` ({args.connections} connections, the "
        f"reads S3–S5 one request at a time; {args.seconds} s a scenario, {os.cpu_count()} "
        f"cores, server and load generator on one machine; workers from "
        f"`api/gunicorn_config.py`; rate limits in Redis when one answers on localhost, as in "
        f"production). Check-ins/s for S2 counts the items of its batches.\n\n{shown}\n"
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
