from celery import shared_task


@shared_task(name="requests.expire_makeup_tokens")
def expire_makeup_tokens_task() -> int:
    from .services import makeup_tokens_expire

    return makeup_tokens_expire()
