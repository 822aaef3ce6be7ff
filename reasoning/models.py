from django.conf import settings
from django.db import models

from oagweb.models import Job, Team


class RuleSet(models.Model):
    """A knowledge base: Datalog source (every save a new version) and its base facts."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rule_sets")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    # Bumped by every change of the facts: cached models of the rule set are keyed on it.
    facts_revision = models.PositiveIntegerField(default=0)
    # relation -> arity of the base facts stored, kept by the fact services (and arity checks).
    relations = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="rule_set_unique_team_name")
        ]

    def __str__(self) -> str:
        return self.name


class RuleSetVersion(models.Model):
    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    source = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "number"],
                                    name="rule_set_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.rule_set} v{self.number}"


class Fact(models.Model):
    """A base fact: `args` is the JSON list of its typed values (string, integer, float)."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="facts")
    relation = models.CharField(max_length=100)
    args = models.JSONField()
    # md5 of relation and the JSON text of args: the key that keeps facts a set. Not the jsonb
    # itself, which would call 1 and 1.0 equal where Datalog does not.
    digest = models.CharField(max_length=32)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "digest"], name="fact_unique_row")
        ]
        indexes = [models.Index(fields=["rule_set", "relation", "id"])]

    def __str__(self) -> str:
        return f"{self.relation}{tuple(self.args)}"


class InferenceRun(models.Model):
    """One evaluation of a rule set version over its facts, run as a job."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="inference_runs")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(RuleSetVersion, on_delete=models.CASCADE, related_name="runs")
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="inference_run")
    facts_revision = models.PositiveIntegerField()
    base_count = models.PositiveIntegerField(default=0)
    derived_count = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)  # relation -> derived rows
    # Production rules that fired during the run: how many, and the first ones in detail.
    firing_count = models.PositiveIntegerField(default=0)
    firings = models.JSONField(default=list, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Run #{self.pk} of {self.rule_set}"


class DerivedFact(models.Model):
    """A fact a run derived (rows of relations that rules define), written in bulk."""

    # No database constraint: checking it cost 5 of the 8 s that writing a million rows took
    # (a deferred trigger per row). Rows are only written by a run's own transaction and
    # deleted with it by the ORM's cascade, so none can point nowhere.
    run = models.ForeignKey(InferenceRun, on_delete=models.CASCADE, related_name="derived",
                            db_constraint=False)
    relation = models.CharField(max_length=100)
    args = models.JSONField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "relation", "id"])]

    def __str__(self) -> str:
        return f"{self.relation}{tuple(self.args)}"
