import factory

from reasoning.models import RuleSet, RuleSetVersion
from tests.oagweb.factories import TeamFactory

FAMILY = """
% who is whose parent, and who descends from whom
parent("tom", "bob").
parent("bob", "ann").
ancestor(X, Y) :- parent(X, Y).
ancestor(X, Z) :- parent(X, Y), ancestor(Y, Z).
"""


class RuleSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleSet
        skip_postgeneration_save = True

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"kb-{n}")
    version = factory.RelatedFactory(
        "tests.reasoning.factories.RuleSetVersionFactory", factory_related_name="rule_set")


class RuleSetVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleSetVersion

    rule_set = factory.SubFactory(RuleSetFactory, version=None)
    number = 1
    source = FAMILY
