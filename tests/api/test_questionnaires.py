"""What the app needs to render a form."""

from __future__ import annotations


def test_list(client):
    response = client.get("/v1/questionnaires")
    assert response.status_code == 200
    body = response.get_json()["items"]
    assert response.get_json()["next_cursor"] is None
    assert [q["key"] for q in body] == ["gad7", "pain", "pcl5", "phq9"]
    phq9 = body[-1]
    assert phq9["recall_period"] == {"iso": "P2W", "text": "the last 2 weeks"}
    assert phq9["item_count"] == 10
    assert "public" in response.headers["Cache-Control"]


def test_one_definition(client):
    body = client.get("/v1/questionnaires/phq9").get_json()
    assert body["version"] == "1"
    item9 = next(i for i in body["items"] if i["id"] == "9")
    assert item9["text"] == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert [o["label"] for o in item9["options"]] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    item10 = next(i for i in body["items"] if i["id"] == "10")
    assert (item10["scored"], item10["required"]) == (False, False)
    assert (body["scoring"]["min"], body["scoring"]["max"]) == (0, 27)
    assert body["scoring"]["flags"][0]["key"] == "suicidal_ideation"
    assert body["change"]["reliable_change"]["points"] == 6


def test_pcl5_has_its_stem_and_clusters(client):
    body = client.get("/v1/questionnaires/pcl5").get_json()
    assert body["stem"] == "In the past week, how much were you bothered by:"
    assert [s["key"] for s in body["scoring"]["subscales"]] == ["B", "C", "D", "E"]


def test_unknown(client):
    response = client.get("/v1/questionnaires/bdi2")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
