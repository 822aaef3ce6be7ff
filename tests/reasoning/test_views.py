"""The knowledge-base pages: rule editor, facts, inference runs, queries, proofs, access."""

import html
import json
import re
from urllib.parse import parse_qs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from oagweb import jobs
from oagweb.models import JobStatus, Role
from reasoning import services
from reasoning.models import Fact, InferenceRun, RuleSet, RuleSetVersion
from reasoning.views import EXAMPLE_SOURCE
from tests.conftest import member_of
from tests.reasoning.factories import FAMILY, RuleSetFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# FAMILY with a typo on its sixth line: a missing comma, found at the Y (column 27).
TYPO = FAMILY.replace("ancestor(X, Z) :- parent", "ancestor(X, Z) :- parnt(X Y")
PROOF_LINK = re.compile(r'href="/reasoning/\d+/proof/\?([^"]+)"')


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def family(owner) -> RuleSet:
    return RuleSetFactory(team=owner.team, name="family")


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _url(rule_set: RuleSet, tail: str = "") -> str:
    return f"/reasoning/{rule_set.pk}/{tail}"


def _upload(content: str, name: str = "facts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), content_type="text/csv")


def _import(rule_set: RuleSet, relation: str, rows) -> None:
    services.facts_import(rule_set=rule_set, rows=((relation, tuple(row)) for row in rows))


def _chain(rule_set: RuleSet, length: int) -> None:
    _import(rule_set, "parent", ((f"p{i}", f"p{i + 1}") for i in range(length)))


def _proof_facts(response) -> list[tuple[str, list]]:
    """The facts the page's proof links point at, in page order."""
    found = []
    for query in PROOF_LINK.findall(response.content.decode()):
        params = parse_qs(html.unescape(query))
        found.append((params["relation"][0], json.loads(params["args"][0])))
    return found


# ---------------------------------------------------------------- the list page

def test_it_sends_anonymous_visitors_to_the_login_page(client, family):
    for url in ("/reasoning/", _url(family), _url(family, "facts/")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/")


def test_it_lists_the_team_rule_sets_with_version_facts_and_last_run(logged_in, owner, family,
                                                                      stranger):
    RuleSetFactory(team=stranger.team, name="their-secret-kb")
    _import(family, "parent", [("ann", "cid"), ("cid", "dan"), ("dan", "eve")])
    services.rule_set_version_save(user=owner, rule_set=family, source=FAMILY + "\n% v2\n")
    services.inference_run_start(user=owner, rule_set=family)

    page = _text(logged_in.get("/reasoning/"))

    row = page[page.index('id="rule-set-'):page.index("</tr>", page.index('id="rule-set-'))]
    assert "family" in row and "v2" in row
    assert "<code>parent</code> 3" in row
    assert "badge-queued" in row
    assert "their-secret-kb" not in page


def test_it_explains_knowledge_bases_when_there_are_none(logged_in):
    page = _text(logged_in.get("/reasoning/"))
    assert "A knowledge base holds Datalog rules" in page
    assert "ancestor(X, Z) :- parent(X, Y), ancestor(Y, Z)." in page
    assert 'id="create-form"' in page


def test_it_creates_a_rule_set_from_the_example_and_opens_it(logged_in, owner):
    response = logged_in.post("/reasoning/", {"name": " Family tree ", "description": "Who is "
                                              "whose parent", "example": "on"})

    rule_set = RuleSet.objects.get(team=owner.team)
    assert response.status_code == 302 and response.url == _url(rule_set)
    assert rule_set.name == "Family tree" and rule_set.created_by == owner
    assert rule_set.versions.get().source == EXAMPLE_SOURCE


def test_it_redirects_htmx_to_the_new_rule_set(logged_in, owner):
    response = logged_in.post("/reasoning/", {"name": "empty"}, headers=HTMX)
    rule_set = RuleSet.objects.get(team=owner.team)
    assert response["HX-Redirect"] == _url(rule_set)
    assert rule_set.versions.get().source == ""


def test_it_keeps_the_form_with_the_error_when_the_name_is_taken_or_empty(logged_in, family):
    taken = logged_in.post("/reasoning/", {"name": "family", "description": "again"},
                           headers=HTMX)
    assert taken.status_code == 200
    assert "already has a rule set named 'family'" in _text(taken)
    assert 'value="family"' in _text(taken) and "again" in _text(taken)
    empty = logged_in.post("/reasoning/", {"name": "   "})
    assert empty.status_code == 422 and "needs a name of 1 to 100 characters" in _text(empty)
    assert RuleSet.objects.count() == 1


# ---------------------------------------------------------------- the rule editor

def test_it_renders_the_rule_set_page_for_its_owner(logged_in, owner, family):
    page = _text(logged_in.get(_url(family)))

    assert "ancestor(X, Z) :- parent(X, Y), ancestor(Y, Z)." in page
    assert "Save as version 2" in page
    assert "✓ Valid: 2 rules, 2 facts" in page
    assert "Version 1" in page and owner.username in page
    assert 'id="run-button"' in page and 'placeholder="ancestor("tom", X)"' in page
    assert f'ws-connect="/ws/teams/{owner.team.pk}/activity/"' in page
    assert 'href="/reasoning/" aria-current="page"' in page


def test_it_marks_a_typo_at_its_line_while_validating(logged_in, family):
    response = logged_in.post(_url(family, "validate/"), {"source": TYPO.replace("\n", "\r\n")},
                              headers=HTMX)

    page = _text(response)
    assert response.status_code == 200
    assert 'id="editor-check"' in page and 'data-line="6"' in page
    assert "Line 6, column 27:" in page and "expected" in page
    assert 'id="editor-gutter" class="gutter" aria-hidden="true" hx-swap-oob="true"' in page
    assert re.findall(r'<span class="error-line">(\d+)</span>', page) == ["6"]
    assert 'style="--line: 6"' in page
    assert family.versions.count() == 1


def test_it_reports_a_valid_source_with_what_it_holds(logged_in, family):
    page = _text(logged_in.post(_url(family, "validate/"), {"source": FAMILY}, headers=HTMX))
    assert "✓ Valid: 2 rules, 2 facts; relations" in page
    assert "<code>parent/2</code>" in page and "<code>ancestor/2</code>" in page
    assert "error-line" not in page
    assert page.count("<span>") == FAMILY.count("\n") + 1  # one gutter number a line


def test_it_saves_a_valid_source_as_the_next_version(logged_in, owner, family):
    source = FAMILY + "root(X) :- parent(X, _), !parent(_, X).\n"

    response = logged_in.post(_url(family, "versions/"), {"source": source.replace("\n", "\r\n")},
                              headers=HTMX)

    page = _text(response)
    assert "Saved as version 2." in page and "Save as version 3" in page
    assert 'id="versions" class="versions" hx-swap-oob="true"' in page and "Version 2" in page
    saved = family.versions.get(number=2)
    assert saved.source == source and saved.created_by == owner


def test_it_saves_nothing_when_the_source_is_invalid(logged_in, family):
    response = logged_in.post(_url(family, "versions/"), {"source": TYPO}, headers=HTMX)
    page = _text(response)
    assert "Nothing was saved:" in page and "Line 6, column 27:" in page
    assert "Save as version 2" in page and TYPO.strip() in page

    plain = logged_in.post(_url(family, "versions/"), {"source": TYPO})
    assert plain.status_code == 422 and "Nothing was saved:" in _text(plain)
    assert family.versions.count() == 1


def test_it_says_when_a_save_changes_nothing(logged_in, family):
    response = logged_in.post(_url(family, "versions/"), {"source": FAMILY}, headers=HTMX)
    assert "Nothing changed since version 1." in _text(response)
    assert family.versions.count() == 1


def test_it_shows_a_version_read_only_and_loads_it_into_the_editor(logged_in, owner, family):
    services.rule_set_version_save(user=owner, rule_set=family, source="p(1).\n")

    shown = _text(logged_in.get(_url(family, "versions/1/"), headers=HTMX))
    assert shown.lstrip().startswith('<article id="version-view"')
    assert FAMILY.strip() in shown
    assert f'hx-get="/reasoning/{family.pk}/editor/?version=1"' in shown

    loaded = _text(logged_in.get(_url(family, "editor/?version=1"), headers=HTMX))
    assert loaded.lstrip().startswith('<form id="editor"')
    assert "The editor holds version 1" in loaded and "Save as version 3" in loaded
    assert FAMILY.strip() in loaded

    plain = logged_in.get(_url(family, "versions/1/"))
    assert plain.status_code == 200 and "<details class=\"versions-box\" open>" in _text(plain)
    assert logged_in.get(_url(family, "versions/9/")).status_code == 404


# ---------------------------------------------------------------- facts

def test_it_imports_csv_facts_and_counts_the_duplicates(logged_in, family):
    upload = _upload("parent,ann,cid\nparent,cid,dan\nparent,ann,cid\n")

    response = logged_in.post(_url(family, "facts/import/"), {"file": upload, "format": ""},
                              headers=HTMX)

    page = _text(response)
    assert "Added 2 of 3 facts (duplicates skipped)." in page
    assert '<div id="facts" hx-swap-oob="true">' in page and "<code>parent/2</code>" in page
    assert Fact.objects.filter(rule_set=family).count() == 2

    named = logged_in.post(_url(family, "facts/import/"),
                           {"file": _upload("eve,fay\n", "people.txt"), "format": "csv",
                            "relation": "parent"}, headers=HTMX)
    assert "Added 1 of 1 facts" in _text(named)
    assert Fact.objects.filter(rule_set=family, args=["eve", "fay"]).exists()


def test_it_imports_nothing_and_shows_the_error_of_a_bad_file(logged_in, family):
    bad = logged_in.post(_url(family, "facts/import/"),
                         {"file": _upload("parent,a,b\nparent,a\n"), "relation": ""},
                         headers=HTMX)
    page = _text(bad)
    assert "Nothing was imported:" in page and "parent takes 2 arguments" in page
    assert 'hx-swap-oob' not in page

    missing = logged_in.post(_url(family, "facts/import/"), {"format": "csv"})
    assert missing.status_code == 422 and "Choose a CSV or JSON file" in _text(missing)
    assert not Fact.objects.filter(rule_set=family).exists()


def test_it_filters_searches_and_pages_the_facts(logged_in, family):
    _chain(family, 120)
    _import(family, "likes", [("ann", "tea"), ("bob", "p77")])

    first = _text(logged_in.get(_url(family, "facts/?relation=parent"), headers=HTMX))
    assert first.lstrip().startswith('<div id="facts-table">')
    assert first.count("<tr><td><code>parent</code>") == 50
    assert "Page 1 of 3 · 120 facts" in first
    assert f'hx-get="/reasoning/{family.pk}/facts/?relation=parent&page=2"' in first

    last = _text(logged_in.get(_url(family, "facts/?relation=parent&page=3"), headers=HTMX))
    assert last.count("<tr><td><code>parent</code>") == 20 and "rel=\"prev\"" in last

    found = _text(logged_in.get(_url(family, "facts/?search=p77"), headers=HTMX))
    assert sorted(re.findall(r"<td><code>(\w+)</code></td><td><code>([^<]+)</code>", found)) == [
        ("likes", '"bob", "p77"'), ("parent", '"p76", "p77"'), ("parent", '"p77", "p78"')]

    plain = _text(logged_in.get(_url(family, "facts/?relation=likes")))
    assert "<h1>family</h1>" in plain and '<option value="likes" selected>' in plain
    assert '"ann", "tea"' in plain and '"p0", "p1"' not in plain


def test_it_exports_facts_as_json_and_csv(logged_in, family):
    _import(family, "parent", [("ann", "cid"), ("cid", 7)])

    as_csv = logged_in.get(_url(family, "facts/export/?format=csv"))
    assert as_csv["Content-Disposition"] == 'attachment; filename="family.csv"'
    assert b"".join(as_csv.streaming_content).decode() == "parent,ann,cid\nparent,cid,7\n"
    as_json = logged_in.get(_url(family, "facts/export/?format=json"))
    assert json.loads(b"".join(as_json.streaming_content)) == {"parent": [["ann", "cid"],
                                                                          ["cid", 7]]}

    unknown = logged_in.get(_url(family, "facts/export/?format=xml"), follow=True)
    assert "Unknown export format" in _text(unknown)


def test_it_deletes_the_facts_of_one_relation(logged_in, family):
    _import(family, "parent", [("ann", "cid")])
    _import(family, "likes", [("ann", "tea"), ("bob", "coffee"), ("cid", "milk")])

    response = logged_in.post(_url(family, "facts/delete/"), {"relation": "likes"},
                              headers=HTMX)

    page = _text(response)
    assert "Deleted 3 facts of likes." in page and "<code>likes/2</code>" not in page
    assert list(Fact.objects.filter(rule_set=family).values_list("relation", flat=True)) == [
        "parent"]
    unnamed = logged_in.post(_url(family, "facts/delete/"), {"relation": ""}, headers=HTMX)
    assert "Name the relation whose facts to delete" in _text(unnamed)
    assert Fact.objects.filter(rule_set=family).count() == 1


# ---------------------------------------------------------------- inference runs

def test_it_starts_an_inference_run_and_watches_its_job(logged_in, family):
    response = logged_in.post(_url(family, "runs/start/"), headers=HTMX)

    run = InferenceRun.objects.get(rule_set=family)
    page = _text(response)
    assert page.lstrip().startswith('<section id="runs"')
    assert f"Run #{run.pk}" in page and "version 1" in page
    assert f'<li id="job-{run.job_id}" class="job job-queued" data-status="queued"' in page
    assert "load delay:1s" in page  # fetches the list once more, for events it missed


@pytest.mark.django_db(transaction=True)
def test_it_shows_a_finished_run_with_its_counts_and_derived_facts(client, owner):
    family = RuleSetFactory(team=owner.team, name="family")
    _chain(family, 30)
    run = services.inference_run_start(user=owner, rule_set=family)
    jobs.job_run(job_id=run.job_id, worker="tests")  # the worker's own code, in this process
    run.refresh_from_db()
    assert run.job.status == JobStatus.SUCCEEDED, run.job.error
    client.force_login(owner)

    runs = _text(client.get(_url(family, "runs/"), headers=HTMX))
    assert 'data-status="succeeded"' in runs and "load delay" not in runs
    assert '<div class="bar-row" data-relation="ancestor">' in runs
    assert f"{run.derived_count} derived facts" in runs and run.derived_count == 468
    assert f'href="/reasoning/runs/{run.pk}/"' in runs

    derived = client.get(f"/reasoning/runs/{run.pk}/?relation=ancestor&page=2", headers=HTMX)
    assert _text(derived).count("<tr><td><code>ancestor</code>") == 50
    assert "Page 2 of 10 · 468 facts" in _text(derived)
    assert all(relation == "ancestor" for relation, _ in _proof_facts(derived))
    assert len(_proof_facts(derived)) == 50
    whole = _text(client.get(f"/reasoning/runs/{run.pk}/"))
    assert "<h2>Derived facts</h2>" in whole and '<option value="ancestor">' in whole


# ---------------------------------------------------------------- queries and proofs

def test_it_answers_a_query_with_a_table_and_proof_links(logged_in, family):
    response = logged_in.post(_url(family, "query/"), {"query": 'ancestor("tom", X)'},
                              headers=HTMX)

    page = _text(response)
    assert '<div id="query-result"' in page and "2 answers · version 1" in page
    assert '<th scope="col">X</th>' in page
    assert re.findall(r"<tr><td>(\w+)</td>", page) == ["ann", "bob"]
    assert _proof_facts(response) == [("ancestor", ["tom", "ann"]), ("ancestor", ["tom", "bob"])]


def test_it_answers_yes_or_no_to_a_query_without_variables(logged_in, family):
    holds = logged_in.post(_url(family, "query/"), {"query": '?- ancestor("tom", "ann").'},
                           headers=HTMX)
    assert "Yes, it holds." in _text(holds)
    assert _proof_facts(holds) == [("ancestor", ["tom", "ann"])]
    fails = logged_in.post(_url(family, "query/"), {"query": 'ancestor("ann", "tom")'},
                           headers=HTMX)
    assert "No, it does not hold." in _text(fails)


def test_it_links_no_proofs_for_answers_that_are_not_whole_facts(logged_in, family):
    for query in ("ancestor(_, X)", "parent(X, Y), ancestor(Y, Z)"):
        response = logged_in.post(_url(family, "query/"), {"query": query}, headers=HTMX)
        assert "<table" in _text(response) and _proof_facts(response) == []


def test_it_shows_query_errors_clearly(logged_in, family, settings):
    syntax = logged_in.post(_url(family, "query/"), {"query": 'ancestor("tom" X)'},
                            headers=HTMX)
    assert "The query is not valid:" in _text(syntax) and "line 1, column" in _text(syntax)

    settings.REASONING_QUERY_ROWS = 2
    capped = logged_in.post(_url(family, "query/"), {"query": "ancestor(X, Y)"})
    assert capped.status_code == 422
    assert "The query cannot be answered as asked:" in _text(capped)
    assert "more than 2 answers" in _text(capped) and "<h1>family</h1>" in _text(capped)


def test_it_shows_the_time_budget_of_a_query(logged_in, owner, settings):
    settings.REASONING_QUERY_SECONDS = 1
    endless = RuleSetFactory(team=owner.team,
                             version__source="n(0). n(Y) :- n(X), X < 100000000, Y = X + 1.")
    response = logged_in.post(_url(endless, "query/"), {"query": "n(5)"}, headers=HTMX)
    assert "The query cannot be answered as asked:" in _text(response)
    assert "longer than 1 s" in _text(response)


def test_it_draws_a_proof_tree_down_to_base_facts(logged_in, family):
    url = _url(family, 'proof/?relation=ancestor&args=["tom", "ann"]')

    page = _text(logged_in.get(url, headers=HTMX))

    assert page.lstrip().startswith('<dialog open id="proof-dialog"')
    assert '<code>ancestor("tom", "ann")</code> follows in 2 steps' in page
    assert page.count('<li class="proof-node proof-derived">') == 2
    base = re.findall(r'<li class="proof-node proof-base">\s*<div class="proof-leaf">\s*'
                      r'<span class="badge badge-proof-base">base fact</span>\s*'
                      r'<code class="proof-fact">([^<]+)</code>', page)
    assert base == ['parent("tom", "bob")', 'parent("bob", "ann")']
    assert "<code>ancestor(X, Z) :- parent(X, Y), ancestor(Y, Z).</code>" in page
    whole = logged_in.get(url)
    assert whole.status_code == 200 and "<h1>Why does it hold?</h1>" in _text(whole)


def test_it_cuts_a_deep_proof_and_links_the_rest(logged_in, family):
    _chain(family, 20)
    page = logged_in.get(_url(family, 'proof/?relation=ancestor&args=["p0", "p20"]'),
                         headers=HTMX)
    assert "follows in 20 steps" in _text(page)
    assert "continue this proof" in _text(page)
    assert ("ancestor", ["p12", "p20"]) in _proof_facts(page)


def test_it_says_when_a_fact_cannot_be_explained(logged_in, family):
    absent = logged_in.get(_url(family, 'proof/?relation=ancestor&args=["ann", "tom"]'),
                           headers=HTMX)
    assert 'ancestor("ann", "tom") is not in the database' in _text(absent)
    plain = logged_in.get(_url(family, 'proof/?relation=ancestor&args=["ann", "tom"]'))
    assert plain.status_code == 404
    malformed = logged_in.get(_url(family, "proof/?relation=ancestor&args=tom"))
    assert malformed.status_code == 400 and "Name the fact to explain" in _text(malformed)


# ---------------------------------------------------------------- access

def test_it_gives_a_viewer_read_only_pages_and_refuses_their_writes(client, owner, family):
    client.force_login(member_of(owner.team, Role.VIEWER))

    page = _text(client.get(_url(family)))
    assert "Viewers have read-only access" in page and " readonly>" in page
    for hidden in ('id="save-button"', 'id="run-button"', 'id="facts-import"', "hx-confirm"):
        assert hidden not in page
    assert client.post(_url(family, "query/"), {"query": "parent(X, Y)"},
                       headers=HTMX).status_code == 200

    writes = [("versions/", {"source": "p(1)."}),
              ("facts/import/", {"file": _upload("parent,a,b\n")}),
              ("facts/delete/", {"relation": "parent"}), ("runs/start/", {})]
    for tail, data in writes:
        assert client.post(_url(family, tail), data).status_code == 403, tail
    assert client.post("/reasoning/", {"name": "mine"}).status_code == 403
    assert RuleSetVersion.objects.filter(rule_set=family).count() == 1
    assert not Fact.objects.exists() and not InferenceRun.objects.exists()


def test_it_hides_another_teams_rule_set_everywhere(client, owner, stranger, family):
    run = services.inference_run_start(user=owner, rule_set=family)
    client.force_login(stranger)

    reads = ["", "facts/", "facts/export/?format=csv", "editor/?version=1", "versions/1/",
             "runs/", 'proof/?relation=ancestor&args=["tom","bob"]']
    for tail in reads:
        assert client.get(_url(family, tail)).status_code == 404, tail
    writes = ["validate/", "versions/", "facts/import/", "facts/delete/", "runs/start/",
              "query/"]
    for tail in writes:
        assert client.post(_url(family, tail), {"source": "p(1).", "query": "p(X)",
                                                 "relation": "parent"}).status_code == 404, tail
    assert client.get(f"/reasoning/runs/{run.pk}/").status_code == 404
    assert f'id="rule-set-{family.pk}"' not in _text(client.get("/reasoning/"))


def test_it_speaks_chinese(logged_in, family):
    logged_in.post("/i18n/setlang/", {"language": "zh-hans"})
    page = _text(logged_in.get(_url(family)))
    assert "保存为版本 2" in page and "运行推理" in page and "✓ 有效：2 条规则，2 条事实" in page
    check = _text(logged_in.post(_url(family, "validate/"), {"source": TYPO}, headers=HTMX))
    assert "第 6 行，第 27 列：" in check
