"""Answers of a rule set: inference runs and their derived facts, queries, proof trees."""

import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oagweb.errors import ApplicationError
from oagweb.views import HtmxHttpRequest
from reasoning import knowledge, selectors, services
from reasoning.engine import Proof
from reasoning.errors import ProgramError
from reasoning.knowledge import Answer
from reasoning.pages import (
    args_text,
    bars,
    page_number,
    part_response,
    rule_set_basics,
    runs_context,
)
from reasoning.views import rule_set_get

# Answers listed under the query box; the answer itself may hold up to REASONING_QUERY_ROWS.
ANSWER_ROWS_SHOWN = 500
# A proof is drawn this many levels deep and with at most this many nodes; a premise cut off
# there links to a proof of its own. Keeps deep or bushy proofs readable and their page small.
PROOF_DEPTH = 12
PROOF_NODES = 400


def proof_query(relation: str | None, args: Sequence[object] | None) -> str:
    """The query string of the link that opens a fact's proof."""
    return urlencode({"relation": relation or "",
                      "args": json.dumps(list(args or ()), ensure_ascii=False)})


# ---------------------------------------------------------------- inference runs

@login_required
@require_GET
def rule_set_runs_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    rule_set = rule_set_get(request, rule_set_id)
    return part_response(request, rule_set, "runs", runs_context(rule_set))


@login_required
@require_POST
def rule_set_run_start_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    """Starts a run of the latest version; a worker evaluates it and reports live."""
    rule_set = rule_set_get(request, rule_set_id, write=True)
    try:
        run = services.inference_run_start(user=request.user, rule_set=rule_set)
    except ApplicationError as exc:
        context = {"run_error": exc.message}
    else:
        context = {"runs_catch_up": True}
    if not request.htmx:
        if "run_error" in context:
            messages.error(request, context["run_error"])
        else:
            messages.success(request, _("Inference run #%(id)d started.") % {"id": run.pk})
        return redirect(reverse("rule_set_detail", args=[rule_set.pk]) + "#runs")
    return part_response(request, rule_set, "runs", {**context, **runs_context(rule_set)})


@login_required
@require_GET
def inference_run_page(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """A run's counts and the facts it derived, 50 a page, optionally of one relation."""
    run = selectors.inference_run_get_for_user(user=request.user, id=run_id)
    relation = request.GET.get("relation", "")
    page = selectors.derived_fact_page(run=run, relation=relation,
                                       page=page_number(request.GET))
    context = {"run": run, "rule_set": run.rule_set, "bars": bars(run.counts),
               "derived": page, "derived_relation": relation,
               "derived_query": urlencode({"relation": relation} if relation else {}),
               "derived_rows": [(fact, args_text(fact.args), proof_query(fact.relation,
                                                                         fact.args))
                                for fact in page]}
    if request.htmx:
        return render(request, "reasoning/run.html#derived-facts", context)
    return render(request, "reasoning/run.html", context)


# ---------------------------------------------------------------- queries

def _answer_rows(answer: Answer) -> list[tuple[list[object], str]]:
    """The rows shown, each with the query string of its proof when the row is one fact."""
    rows = []
    for index, values in enumerate(answer.rows[:ANSWER_ROWS_SHOWN]):
        facts = answer.facts(index)
        rows.append((values, proof_query(*facts[0]) if len(facts) == 1 else ""))
    return rows


@login_required
@require_POST
def rule_set_query_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    """Answers a query over the latest version and the current facts."""
    rule_set = rule_set_get(request, rule_set_id)
    text = request.POST.get("query", "").strip()
    context: dict[str, object] = {"query_text": text}
    try:
        answer = knowledge.rule_set_query(rule_set=rule_set, text=text)
    except ApplicationError as exc:
        context.update(query_error=exc.message, query_invalid=isinstance(exc, ProgramError))
        return part_response(request, rule_set, "query-result", context,
                             status=exc.status_code)
    context.update(answer=answer, answer_rows=_answer_rows(answer),
                   answer_cut=len(answer.rows) > ANSWER_ROWS_SHOWN)
    return part_response(request, rule_set, "query-result", context)


# ---------------------------------------------------------------- proofs

@dataclass
class ProofNode:
    """A node of the drawn proof; `cut` when its premises are left to a proof of its own."""

    proof: Proof
    premises: list["ProofNode"] = field(default_factory=list)
    cut: bool = False
    link: str = ""


def proof_drawn(proof: Proof) -> ProofNode:
    """The proof as far as it is drawn: breadth first, so the budget goes to the top levels."""
    root = ProofNode(proof)
    queue, budget = deque([(root, 0)]), PROOF_NODES
    while queue:
        node, depth = queue.popleft()
        premises = node.proof.premises
        if premises and (depth >= PROOF_DEPTH or len(premises) > budget):
            node.cut, node.link = True, proof_query(node.proof.relation, node.proof.row)
            continue
        budget -= len(premises)
        for premise in premises:
            node.premises.append(ProofNode(premise))
            queue.append((node.premises[-1], depth + 1))
    return root


def _fact_args(text: str) -> list[object]:
    try:
        args = json.loads(text)
    except ValueError:
        args = None
    if not isinstance(args, list) or not all(
            isinstance(value, (str, int, float)) and not isinstance(value, bool)
            for value in args):
        raise ApplicationError(_("Name the fact to explain: a relation and the JSON list of "
                                 "its arguments."))
    return args


@login_required
@require_GET
def rule_set_proof_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    """A proof tree of a fact of the rule set, down to its base facts."""
    rule_set = rule_set_get(request, rule_set_id)
    context = rule_set_basics(request, rule_set)
    status = 200
    try:
        proof = knowledge.rule_set_explain(
            rule_set=rule_set, relation=request.GET.get("relation", ""),
            args=_fact_args(request.GET.get("args", "")))
    except ApplicationError as exc:
        context["proof_error"], status = exc.message, exc.status_code
    else:
        context["tree"] = proof_drawn(proof)
    if request.htmx:
        return render(request, "reasoning/proof.html#proof-dialog", context)
    return render(request, "reasoning/proof.html", context, status=status)
