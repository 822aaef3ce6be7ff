from django.apps import AppConfig


class OagwebConfig(AppConfig):
    name = "oagweb"
    verbose_name = "oagweb core"

    def ready(self) -> None:
        from oagweb import jobs, ping

        jobs.job_kind_register(ping.PING_KIND)
