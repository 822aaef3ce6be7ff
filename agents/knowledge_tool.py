"""The built-in tool an agent gets when it has a knowledge base: Datalog queries with proofs.

It runs in the runtime's tool threads (sync), so it may read the database directly, and
closes its connection after each call.
"""

from django.db import connection

from agents.runtime.tools import Tool, ToolError
from oagweb.errors import ApplicationError
from reasoning.knowledge import rule_set_cite, rule_set_describe
from reasoning.models import RuleSet

DESCRIPTION = (
    "Query the team's knowledge base with a Datalog query, e.g. ancestor(\"tom\", X) or "
    "parent(X, \"ann\"), !ancestor(X, \"bob\"). Strings in double quotes, variables start "
    "uppercase. Returns the answer rows and short proofs (rule and premises) to cite. "
)


class KnowledgeBaseTool(Tool):
    name = "query_knowledge_base"
    description = DESCRIPTION

    def __init__(self, rule_set: RuleSet) -> None:
        self.rule_set_id = rule_set.pk
        self.description = DESCRIPTION + rule_set_describe(rule_set=rule_set)

    def execute(self, query: str) -> str:
        """Answer a Datalog query from the knowledge base.

        Args:
            query: One query, e.g. ancestor("tom", X).
        """
        try:
            rule_set = RuleSet.objects.get(pk=self.rule_set_id)
            return rule_set_cite(rule_set=rule_set, text=query)
        except RuleSet.DoesNotExist:
            raise ToolError("The knowledge base was deleted") from None
        except ApplicationError as exc:
            raise ToolError(exc.message) from None
        finally:
            # Tool threads outlive requests: do not leave their connection open.
            connection.close()
