from django.apps import AppConfig


class ReasoningConfig(AppConfig):
    name = "reasoning"

    def ready(self) -> None:
        from oagweb import jobs
        from reasoning.inference import INFERENCE_JOB

        jobs.job_kind_register(INFERENCE_JOB)
