from django.apps import AppConfig


class ReasoningConfig(AppConfig):
    name = "reasoning"
