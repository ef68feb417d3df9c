"""Work a request leaves until its answer is sent (``kernel.after_response``)."""

from __future__ import annotations

import logging

import pytest

from kernel import after_response
from kernel.after_response import AfterResponse


class _Answer:
    """A WSGI answer that records when it is iterated and closed."""

    def __init__(self, log: list) -> None:
        self.log = log

    def __iter__(self):
        self.log.append("sent")
        yield b"ok"

    def close(self) -> None:
        self.log.append("closed")


def _serve(app) -> list:
    """Call ``app`` as a WSGI server would: the answer iterated, then closed."""
    answer = app({}, lambda status, headers, exc_info=None: None)
    body = b"".join(answer)
    getattr(answer, "close", lambda: None)()
    return [body]


@pytest.fixture
def connections_given_back(monkeypatch):
    given: list = []
    monkeypatch.setattr("django.db.close_old_connections", lambda: given.append(True))
    return given


def test_outside_a_request_deferred_work_runs_at_once():
    done: list = []
    assert after_response.serving() is False
    assert after_response.defer(lambda: done.append(1)) is False
    assert done == [1]


def test_deferred_work_runs_once_the_answer_is_sent_and_closed(connections_given_back):
    log: list = []

    def app(environ, start_response):
        log.append(("serving", after_response.serving()))
        assert after_response.defer(lambda: log.append("work")) is True
        assert after_response.defer(lambda: log.append("more work")) is True
        log.append("answered")
        return _Answer(log)

    assert _serve(AfterResponse(app)) == [b"ok"]
    assert log == [("serving", True), "answered", "sent", "closed", "work", "more work"]
    assert connections_given_back == [True]  # as at the end of a request
    assert after_response.serving() is False


def test_nothing_deferred_leaves_the_answer_as_it_is(connections_given_back):
    answer = [b"as", b"is"]
    wrapped = AfterResponse(lambda environ, start_response: answer)
    assert wrapped({}, lambda *a: None) is answer
    assert connections_given_back == []


def test_deferred_work_that_fails_is_logged_and_the_rest_still_runs(caplog, connections_given_back):
    log: list = []

    def broken():
        raise RuntimeError("Redis is away")

    def app(environ, start_response):
        after_response.defer(broken)
        after_response.defer(lambda: log.append("work"))
        return [b"ok"]

    with caplog.at_level(logging.ERROR, logger="kernel.after_response"):
        assert _serve(AfterResponse(app)) == [b"ok"]
    assert log == ["work"]
    assert "after the response" in caplog.text and "Redis is away" in caplog.text


def test_an_application_that_raises_still_runs_its_deferred_work(connections_given_back):
    log: list = []

    def app(environ, start_response):
        after_response.defer(lambda: log.append("work"))
        raise ValueError("bad request")

    with pytest.raises(ValueError, match="bad request"):
        AfterResponse(app)({}, lambda *a: None)
    assert log == ["work"]
    assert after_response.serving() is False


def test_work_deferred_by_deferred_work_or_after_the_call_runs_at_once(connections_given_back):
    log: list = []

    def app(environ, start_response):
        after_response.defer(lambda: after_response.defer(lambda: log.append("nested")))

        def streamed():
            # A streaming answer's body runs after the call: nothing waits for it to close.
            after_response.defer(lambda: log.append("while streaming"))
            yield b"ok"

        return streamed()

    answer = AfterResponse(app)({}, lambda *a: None)
    assert b"".join(answer) == b"ok"
    assert log == ["while streaming"]
    answer.close()
    assert log == ["while streaming", "nested"]


def test_connections_that_cannot_be_given_back_are_logged_not_raised(monkeypatch, caplog):
    def refused():
        raise RuntimeError("database away")

    monkeypatch.setattr("django.db.close_old_connections", refused)

    def app(environ, start_response):
        after_response.defer(lambda: None)
        return [b"ok"]

    with caplog.at_level(logging.ERROR, logger="kernel.after_response"):
        assert _serve(AfterResponse(app)) == [b"ok"]
    assert "the connections not given back" in caplog.text


def test_an_answer_that_left_work_tells_its_hooks_before_the_work_runs(
    connections_given_back, monkeypatch, caplog
):
    """``on_answered`` hooks (the CPU log's) run once the answer is closed and before its
    deferred work, once per answer however often registered; not for an answer that left
    nothing; a failing hook is logged and the work still runs."""
    monkeypatch.setattr(after_response, "_answered", [])
    log: list = []

    def hook() -> None:
        log.append("hook")

    def failing() -> None:
        raise RuntimeError("hook")

    for _ in range(2):
        after_response.on_answered(hook)

    def app(environ, start_response):
        after_response.defer(lambda: log.append("work"))
        return _Answer(log)

    _serve(AfterResponse(app))
    assert log == ["sent", "closed", "hook", "work"]
    log.clear()
    _serve(AfterResponse(lambda environ, start_response: _Answer(log)))
    assert log == ["sent", "closed"]  # nothing deferred: no hook
    log.clear()
    after_response.on_answered(failing)
    with caplog.at_level(logging.ERROR, logger="kernel.after_response"):
        _serve(AfterResponse(app))
    assert log == ["sent", "closed", "hook", "work"]
    assert any("failed" in r.getMessage() for r in caplog.records)
