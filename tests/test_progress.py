import logging

from transforms.progress import Progress


def test_progress_logs_at_most_once_per_interval(caplog, monkeypatch):
    clock = iter([0.0, 1.0, 2.0, 20.0, 21.0, 40.0])
    monkeypatch.setattr("transforms.progress.time.monotonic", lambda: next(clock))
    progress = Progress("entities", "articles tagged", interval=15)
    with caplog.at_level(logging.INFO, logger="newsbeam.progress"):
        for _ in range(5):
            progress.add()
    assert [r.getMessage() for r in caplog.records] == [
        "entities: 3 articles tagged so far on this worker (0.1/s)",
        "entities: 5 articles tagged so far on this worker (0.1/s)",
    ]
