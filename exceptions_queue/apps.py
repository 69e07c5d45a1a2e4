from django.apps import AppConfig


class ExceptionsQueueConfig(AppConfig):
    name = "exceptions_queue"
    verbose_name = "Exception queue"
