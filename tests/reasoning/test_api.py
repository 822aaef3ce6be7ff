"""The reasoning REST API: rule sets, versions, facts, queries and proofs."""

import io
import json

import pytest

from oagweb.models import Role
from reasoning.models import Fact
from tests.conftest import member_of
from tests.reasoning.factories import FAMILY, RuleSetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(owner, api_client):
    return api_client(owner)


def _create(api, owner, source=FAMILY, name="family"):
    response = api.post(f"/api/v1/teams/{owner.team.pk}/rule-sets",
                        {"name": name, "source": source}, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def test_it_creates_a_rule_set_with_its_first_version(api, owner):
    created = _create(api, owner)
    versions = api.get(f"/api/v1/rule-sets/{created['id']}/versions").json()
    assert [v["number"] for v in versions] == [1]
    assert api.get(f"/api/v1/rule-sets/{created['id']}/versions/1").json()["source"] == FAMILY


def test_it_rejects_a_typo_naming_line_and_column(api, owner):
    created = _create(api, owner)
    broken = FAMILY.replace("ancestor(X, Z) :- parent", "ancestor(X, Z) :- parnt(X Y")
    response = api.post(f"/api/v1/rule-sets/{created['id']}/versions", {"source": broken},
                        content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert (body["line"], body["column"]) == (6, 27)  # the Y after "parnt(X "
    assert "expected" in body["detail"]
    assert [v["number"] for v in api.get(
        f"/api/v1/rule-sets/{created['id']}/versions").json()] == [1]


def test_it_saves_each_changed_source_as_a_new_version(api, owner):
    created = _create(api, owner)
    url = f"/api/v1/rule-sets/{created['id']}/versions"
    second = api.post(url, {"source": FAMILY + "\nroot(X) :- parent(X, _), !parent(_, X).\n"},
                      content_type="application/json")
    assert second.status_code == 201 and second.json()["number"] == 2
    same = api.post(url, {"source": second.json()["source"]}, content_type="application/json")
    assert same.json()["number"] == 2


def test_it_validates_without_saving(api, owner):
    created = _create(api, owner)
    url = f"/api/v1/rule-sets/{created['id']}/validate"
    good = api.post(url, {"source": FAMILY}, content_type="application/json").json()
    assert good["valid"] and good["rules"] == 2 and good["relations"] == {
        "parent": 2, "ancestor": 2}
    bad = api.post(url, {"source": "p(X) :- q(Y)."}, content_type="application/json").json()
    assert not bad["valid"] and bad["error"]["line"] == 1


def test_it_refuses_a_source_over_10_mb(api, owner):
    created = _create(api, owner)
    huge = "% padding\n" * (1024 * 1024 + 1)
    response = api.post(f"/api/v1/rule-sets/{created['id']}/versions", {"source": huge},
                        content_type="application/json")
    assert response.status_code == 413
    assert "limit is 10 MB" in response.json()["detail"]


def test_it_imports_csv_and_answers_queries_over_it(api, owner):
    created = _create(api, owner)
    csv = io.BytesIO(b"ann,cid\ncid,dan\n")
    csv.name = "parents.csv"
    response = api.post(f"/api/v1/rule-sets/{created['id']}/facts/import",
                        {"file": csv, "relation": "parent"})
    assert response.status_code == 201, response.content
    assert response.json()["added"] == 2
    answer = api.post(f"/api/v1/rule-sets/{created['id']}/query",
                      {"query": '?- ancestor("tom", X).'}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["rows"] == [["ann"], ["bob"], ["cid"], ["dan"]]
    assert answer.json()["columns"] == ["X"]


def test_it_imports_nothing_when_one_row_is_bad(api, owner):
    created = _create(api, owner)
    data = io.BytesIO(json.dumps({"parent": [["a", "b"], ["c", "d", "e"]]}).encode())
    data.name = "facts.json"
    response = api.post(f"/api/v1/rule-sets/{created['id']}/facts/import", {"file": data})
    assert response.status_code == 400
    assert "parent takes 2 arguments" in response.json()["detail"]
    assert not Fact.objects.exists()


def test_it_keeps_facts_a_set_and_types_distinct(api, owner):
    created = _create(api, owner, source="n(X) :- v(X).")
    url = f"/api/v1/rule-sets/{created['id']}/facts"
    body = [{"relation": "v", "args": [1]}, {"relation": "v", "args": [1.0]},
            {"relation": "v", "args": ["1"]}, {"relation": "v", "args": [1]}]
    response = api.post(url, body, content_type="application/json")
    assert response.json() == {"received": 4, "added": 3, "facts_revision": 1}
    again = api.post(url, body[:1], content_type="application/json").json()
    assert again["added"] == 0
    listed = api.get(url + "?relation=v").json()
    assert sorted(map(repr, (f["args"][0] for f in listed["items"]))) == ["'1'", "1", "1.0"]


def test_it_exports_what_import_reads_back(api, owner):
    created = _create(api, owner)
    api.post(f"/api/v1/rule-sets/{created['id']}/facts",
             [{"relation": "parent", "args": ["a, b", "c\"d"]}], content_type="application/json")
    for fmt in ("csv", "json"):
        response = api.get(f"/api/v1/rule-sets/{created['id']}/facts/export?format={fmt}")
        assert response.status_code == 200
        content = b"".join(response.streaming_content)
        other = _create(api, owner, name=f"copy-{fmt}")
        upload = io.BytesIO(content)
        upload.name = f"facts.{fmt}"
        imported = api.post(f"/api/v1/rule-sets/{other['id']}/facts/import", {"file": upload})
        assert imported.json()["added"] == 1, content
        assert Fact.objects.get(rule_set_id=other["id"]).args == ["a, b", 'c"d']


def test_it_explains_a_derived_fact_down_to_base_facts(api, owner):
    created = _create(api, owner)
    proof = api.post(f"/api/v1/rule-sets/{created['id']}/explain",
                     {"relation": "ancestor", "args": ["tom", "ann"]},
                     content_type="application/json").json()
    assert proof["fact"] == 'ancestor("tom", "ann")'
    assert proof["height"] == 2
    assert [p["fact"] for p in proof["premises"]] == ['parent("tom", "bob")',
                                                      'ancestor("bob", "ann")']
    missing = api.post(f"/api/v1/rule-sets/{created['id']}/explain",
                       {"relation": "ancestor", "args": ["ann", "tom"]},
                       content_type="application/json")
    assert missing.status_code == 404


def test_it_stops_a_query_past_its_row_cap(api, owner):
    created = _create(api, owner)
    response = api.post(f"/api/v1/rule-sets/{created['id']}/query",
                        {"query": "ancestor(X, Y)", "limit": 2}, content_type="application/json")
    assert response.status_code == 422
    assert "more than 2 answers" in response.json()["detail"]


def test_it_stops_a_query_past_its_time_budget(api, owner, settings):
    settings.REASONING_QUERY_SECONDS = 1
    source = "n(0). n(Y) :- n(X), X < 100000000, Y = X + 1."
    created = _create(api, owner, source=source)
    response = api.post(f"/api/v1/rule-sets/{created['id']}/query", {"query": "n(5)"},
                        content_type="application/json")
    assert response.status_code == 422
    assert "longer than 1 s" in response.json()["detail"]


def test_it_hides_another_teams_rule_set_from_import(api, stranger):
    theirs = RuleSetFactory(team=stranger.team)
    upload = io.BytesIO(b"a,b\n")
    upload.name = "facts.csv"
    response = api.post(f"/api/v1/rule-sets/{theirs.pk}/facts/import",
                        {"file": upload, "relation": "parent"})
    assert response.status_code == 404
    assert not Fact.objects.exists()


def test_it_lets_viewers_read_but_not_write(owner, api_client):
    created = RuleSetFactory(team=owner.team)
    viewer = api_client(member_of(owner.team, Role.VIEWER))
    assert viewer.get(f"/api/v1/rule-sets/{created.pk}").status_code == 200
    response = viewer.post(f"/api/v1/rule-sets/{created.pk}/versions", {"source": "p(1)."},
                           content_type="application/json")
    assert response.status_code == 403


def test_it_refuses_an_import_past_the_row_limit_and_keeps_nothing(api, owner, monkeypatch):
    # The limit is 1,000,000; a smaller one exercises the same path in a fraction of the time.
    monkeypatch.setattr("reasoning.facts_io.MAX_IMPORT_ROWS", 3)
    created = _create(api, owner)
    upload = io.BytesIO(b"a,b\nb,c\nc,d\nd,e\n")
    upload.name = "facts.csv"
    response = api.post(f"/api/v1/rule-sets/{created['id']}/facts/import",
                        {"file": upload, "relation": "parent"})
    assert response.status_code == 400
    assert response.json()["detail"] == "An import holds at most 3 facts; nothing was imported"
    assert not Fact.objects.exists()
