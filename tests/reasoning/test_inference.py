"""Inference runs on a real Celery worker: counts, persisted derived facts, all or nothing."""

import pytest

from oagweb.jobs import job_cancel
from oagweb.models import JobStatus
from reasoning import services
from reasoning.models import DerivedFact, InferenceRun
from tests.agents.factories import ToolFactory
from tests.reasoning.factories import FAMILY, RuleSetFactory
from tests.stack import celery_worker, job_wait

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    with celery_worker() as process:
        yield process


def _chain(rule_set, length: int) -> None:
    rows = (("parent", (f"p{i}", f"p{i + 1}")) for i in range(length))
    services.facts_import(rule_set=rule_set, rows=rows)


def test_it_derives_counts_and_persists_every_derived_fact(worker, owner):
    rule_set = RuleSetFactory(team=owner.team)
    _chain(rule_set, 100)
    run = services.inference_run_start(user=owner, rule_set=rule_set)
    job = job_wait(run.job_id, JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == JobStatus.SUCCEEDED, job.error
    run.refresh_from_db()
    # 100 chain edges plus the two facts of the source: tom -> bob -> ann.
    assert run.base_count == 102
    assert run.counts == {"ancestor": 100 * 101 // 2 + 3}
    assert DerivedFact.objects.filter(run=run).count() == run.derived_count == 5053
    assert DerivedFact.objects.filter(run=run, args=["p0", "p100"]).exists()
    assert job.message.startswith("Derived 5,053 facts in 1 relations")


def test_it_fails_clearly_and_persists_nothing_when_facts_do_not_fit(worker, owner):
    rule_set = RuleSetFactory(team=owner.team)
    _chain(rule_set, 10)
    # The new version uses parent with three arguments; the stored facts have two.
    services.rule_set_version_save(user=owner, rule_set=rule_set,
                                   source="anc(X, Y) :- parent(X, Y, _).")
    run = services.inference_run_start(user=owner, rule_set=rule_set)
    job = job_wait(run.job_id, JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == JobStatus.FAILED
    assert "The facts do not fit the rules" in job.error and "parent" in job.error
    assert not DerivedFact.objects.filter(run=run).exists()


def test_it_leaves_nothing_behind_when_cancelled(worker, owner):
    rule_set = RuleSetFactory(team=owner.team)
    services.rule_set_version_save(user=owner, rule_set=rule_set, source=FAMILY + "\n".join(
        f"big(X, {i}) :- ancestor(X, _)." for i in range(40)))
    _chain(rule_set, 600)
    run = services.inference_run_start(user=owner, rule_set=rule_set)
    job_wait(run.job_id, JobStatus.RUNNING, timeout=30)
    job_cancel(job=run.job)
    job = job_wait(run.job_id, JobStatus.CANCELLED, JobStatus.SUCCEEDED, timeout=120)
    assert job.status == JobStatus.CANCELLED
    assert not DerivedFact.objects.filter(run=run).exists()
    assert InferenceRun.objects.get(pk=run.pk).derived_count == 0


PRODUCTIONS = """
stock("bolt", 3). stock("nut", 40).
low(I) :- stock(I, N), N < 10.
@salience(5)
reorder: low(I), !ordered(I) ==> assert ordered(I), emit reorder(I), call calculator("40 - 3").
"""


def test_it_fires_production_rules_and_calls_the_teams_tools(worker, owner):
    ToolFactory(team=owner.team, kind="builtin", name="calculator", target="calculator")
    rule_set = RuleSetFactory(team=owner.team, version__source=PRODUCTIONS)
    run = services.inference_run_start(user=owner, rule_set=rule_set)
    job = job_wait(run.job_id, JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == JobStatus.SUCCEEDED, job.error
    run.refresh_from_db()
    assert run.firing_count == 1
    assert run.firings == [{
        "production": "reorder", "bindings": {"I": "bolt"},
        "events": [{"name": "reorder", "values": ["bolt"]}],
        "calls": [{"tool": "calculator", "args": ["40 - 3"], "result": "37", "error": None}]}]
    assert run.counts == {"low": 1, "ordered": 1}
    assert DerivedFact.objects.get(run=run, relation="ordered").args == ["bolt"]


def test_it_fails_a_run_whose_productions_call_a_missing_tool(worker, owner):
    rule_set = RuleSetFactory(team=owner.team, version__source=PRODUCTIONS)
    run = services.inference_run_start(user=owner, rule_set=rule_set)
    job = job_wait(run.job_id, JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == JobStatus.FAILED
    assert "calls the tool calculator" in job.error and "no such tool" in job.error
