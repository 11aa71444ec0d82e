"""What a client sees when things fail, on PostgreSQL behind gunicorn: the database going away
mid-service and coming back; many processes sending the same check-ins at once."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import multiprocessing
import os
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid

from sqlalchemy import create_engine, func, select, text

from api.models import AlertOccurrence, CheckIn
from tests.conftest import answers


def call(url: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict, dict]:
    """(status, headers, JSON body) of one request; errors are answers too."""
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, dict(answer.headers), json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.load(error)


def check_in(item_9: int = 0) -> dict:
    completed = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    return {
        "id": str(uuid.uuid4()),
        "questionnaire": "phq9",
        "answers": answers("phq9", i1=2, i9=item_9),
        "completed_at": completed.isoformat(),
    }


def stored(deployment, model, *where) -> int:
    engine = create_engine(deployment.database_url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(model).where(*where))
    engine.dispose()
    return count


def test_the_database_goes_away_and_comes_back(deployment):
    submit = f"{deployment.base_url}/v1/patients/{deployment.patient_id}/check-ins"
    before = check_in()
    assert call(submit, deployment.patient_token, before)[0] == 201
    admin = deployment.admin()
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{deployment.database}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": deployment.database},
        )
    during = check_in(item_9=1)
    status, headers, body = call(submit, deployment.patient_token, during)
    assert status == 503 and int(headers["Retry-After"]) > 0
    assert body["type"] == "/problems/unavailable"
    assert call(f"{deployment.base_url}/readyz")[0] == 503
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{deployment.database}" ALLOW_CONNECTIONS true'))
    admin.dispose()
    # Back without a restart; the refused check-in was not half-stored: the retry creates it.
    assert call(f"{deployment.base_url}/readyz")[0] == 200
    status, _, body = call(submit, deployment.patient_token, during)
    assert status == 201 and body["safety"]["answers_sent"] is True
    assert stored(deployment, CheckIn, CheckIn.id.in_([before["id"], during["id"]])) == 2
    assert (
        stored(deployment, AlertOccurrence, AlertOccurrence.check_in_id == uuid.UUID(during["id"]))
        == 1
    )


def send_all(arguments: tuple[str, str, list[dict]]) -> list[int]:
    url, token, bodies = arguments
    return [call(url, token, body)[0] for body in bodies]


def test_processes_sending_the_same_check_ins_store_each_once(deployment):
    submit = f"{deployment.base_url}/v1/patients/{deployment.patient_id}/check-ins"
    bodies = [check_in(item_9=i % 2) for i in range(12)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        statuses = pool.map(send_all, [(submit, deployment.patient_token, bodies)] * 4)
    for i in range(len(bodies)):
        seen = sorted(per_process[i] for per_process in statuses)
        assert seen == [200, 200, 200, 201], (i, seen)  # one stored it, the others replayed
    ids = [uuid.UUID(body["id"]) for body in bodies]
    assert stored(deployment, CheckIn, CheckIn.id.in_(ids)) == len(bodies)
    # Every item-9 check-in reached the care team once (as an alert or an occurrence of one).
    flagged = [uuid.UUID(body["id"]) for body in bodies if body["answers"]["9"]]
    occurrences = stored(deployment, AlertOccurrence, AlertOccurrence.check_in_id.in_(flagged))
    assert occurrences == len(flagged)


def test_a_worker_killed_mid_batch_leaves_none_of_it_stored(deployment):
    """A batch holds its check-ins in one transaction: a worker killed after they are written
    but before the commit leaves none of them; sent again, every one is stored with its alert.
    The test holds the patient's row, so the batch waits, mid-transaction, for it as it raises
    the item-9 alert of its last check-in."""
    batch = [check_in() for _ in range(20)] + [check_in(item_9=1)]
    ids = [uuid.UUID(item["id"]) for item in batch]
    url = f"{deployment.base_url}/v1/patients/{deployment.patient_id}/check-ins/batch"
    engine = create_engine(deployment.database_url)
    holder = engine.connect()
    hold = holder.begin()
    holder.execute(
        text("SELECT id FROM patients WHERE id = :id FOR NO KEY UPDATE"),
        {"id": uuid.UUID(deployment.patient_id)},
    )
    sent = threading.Thread(target=call_ignoring_resets, args=(url, deployment, batch))
    sent.start()
    # In autocommit, from the maintenance database: each look at pg_stat_activity is fresh
    # (within a transaction PostgreSQL would show the first one again).
    admin = deployment.admin()
    with admin.connect() as watcher:
        assert wait_for(lambda: backends(watcher, deployment, "wait_event_type = 'Lock'") == 1)
        for worker in deployment.workers():
            os.kill(worker, signal.SIGKILL)
        sent.join(timeout=30)
        hold.rollback()
        holder.close()
        # The killed worker's backend finds its client gone and rolls back.
        assert wait_for(lambda: backends(watcher, deployment, "state <> 'idle'") == 0)
    admin.dispose()
    engine.dispose()
    assert stored(deployment, CheckIn, CheckIn.id.in_(ids)) == 0
    wait_for(lambda: call(f"{deployment.base_url}/healthz")[0] == 200)
    status, _, body = call(url, deployment.patient_token, {"check_ins": batch})
    assert status == 207
    assert [r["status"] for r in body["results"]] == [201] * len(batch)
    assert stored(deployment, CheckIn, CheckIn.id.in_(ids)) == len(batch)
    assert stored(deployment, AlertOccurrence, AlertOccurrence.check_in_id == ids[-1]) == 1


def call_ignoring_resets(url: str, deployment, batch: list[dict]) -> None:
    # The worker is killed: no answer.
    with contextlib.suppress(ConnectionError, http.client.HTTPException, urllib.error.URLError):
        call(url, deployment.patient_token, {"check_ins": batch})


def backends(connection, deployment, condition: str) -> int:
    """Sessions on the deployment's database meeting a condition."""
    return connection.scalar(
        text(f"SELECT count(*) FROM pg_stat_activity WHERE datname = :name AND {condition}"),  # noqa: S608 - our own fixed conditions
        {"name": deployment.database},
    )


def wait_for(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
