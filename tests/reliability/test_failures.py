"""What a client sees when things fail, on PostgreSQL behind gunicorn: the database going away
mid-service and coming back; many processes sending the same check-ins at once."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
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
