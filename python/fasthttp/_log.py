"""The ``fasthttp`` logger (standard :mod:`logging`).

At INFO, one line per response received, in httpx's form::

    HTTP Request: GET https://example.org/ "HTTP/1.1 200 OK"

At DEBUG, before each of those, what the connection did: opened (peer
address, DNS and connect times) or reused, TLS version, cipher, ALPN and the
server certificate; and the redirects followed and the attempts of a retried
request. URLs never carry credentials. The C core writes the lines; with the
level off it checks the logger's level cache and formats nothing.

Enable with ``logging.basicConfig(level=logging.INFO)`` or
``logging.getLogger("fasthttp").setLevel(logging.DEBUG)``.
"""

from __future__ import annotations

import logging

from . import _fasthttp

logger = logging.getLogger("fasthttp")
_fasthttp._set_logger(logger)
