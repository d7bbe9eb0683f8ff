"""Connection-pool limits for :class:`fasthttp.Client`."""

from __future__ import annotations

__all__ = ["Limits"]


class Limits:
    """Pool sizes: ``Client(limits=Limits(max_connections=200))``.

    - ``max_connections``: open connections of the client, all origins together;
    - ``max_connections_per_host``: open connections to one origin
      (scheme, host, port); further requests wait up to ``Timeout.pool``;
    - ``max_keepalive_per_host``: idle connections kept per origin for reuse
      (default: as many as ``max_connections_per_host``, so a busy origin's
      connections are not closed only to be opened again);
    - ``keepalive_expiry``: seconds an idle connection is kept.
    """

    __slots__ = (
        "keepalive_expiry",
        "max_connections",
        "max_connections_per_host",
        "max_keepalive_per_host",
    )

    def __init__(
        self,
        *,
        max_connections: int = 100,
        max_connections_per_host: int = 10,
        max_keepalive_per_host: int | None = None,
        keepalive_expiry: float = 60.0,
    ) -> None:
        if max_keepalive_per_host is None:
            max_keepalive_per_host = max_connections_per_host
        for name, value in (
            ("max_connections", max_connections),
            ("max_connections_per_host", max_connections_per_host),
            ("max_keepalive_per_host", max_keepalive_per_host),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Limits.{name} must be an int >= 0")
        if isinstance(keepalive_expiry, bool) or not isinstance(keepalive_expiry, (int, float)):
            raise TypeError("Limits.keepalive_expiry must be a number of seconds")
        if keepalive_expiry < 0:
            raise ValueError("Limits.keepalive_expiry must be >= 0")
        self.max_connections = max_connections
        self.max_connections_per_host = max_connections_per_host
        self.max_keepalive_per_host = max_keepalive_per_host
        self.keepalive_expiry = float(keepalive_expiry)

    def __repr__(self) -> str:
        return (
            f"Limits(max_connections={self.max_connections}, "
            f"max_connections_per_host={self.max_connections_per_host}, "
            f"max_keepalive_per_host={self.max_keepalive_per_host}, "
            f"keepalive_expiry={self.keepalive_expiry})"
        )
