"""Prometheus metrics of one service process (prometheus-client).

Each application has its own registry, so several apps in one process (tests)
do not collide. With several uvicorn workers each worker counts its own.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """Decisions by view, request latency by endpoint, errors by kind."""

    def __init__(self) -> None:
        """Create the registry and its three families."""
        self.registry = CollectorRegistry(auto_describe=True)
        self.decisions = Counter(
            "dissemination_decisions",
            "Decisions made, by the view decided",
            ["view"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "dissemination_request_seconds",
            "Time to answer a request, by endpoint",
            ["endpoint"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
            registry=self.registry,
        )
        self.errors = Counter(
            "dissemination_errors",
            "Requests answered with an error, by kind",
            ["kind"],
            registry=self.registry,
        )

        self._by_view: dict[str, Any] = {}

    def decided(self, view: str) -> None:
        """Count one decision at `view` (the labelled child is looked up once)."""
        child = self._by_view.get(view)
        if child is None:
            child = self._by_view[view] = self.decisions.labels(view)
        child.inc()

    def exposition(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
