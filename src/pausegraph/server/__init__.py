"""An HTTP server for a graph: the review inbox page, and a JSON API, over the public API only.

``create_app(graph)`` returns an ASGI application (Starlette; install
``pausegraph[server]``). Serve it with any ASGI server, or with
``pausegraph serve module:graph``.

* ``GET /`` is the inbox: every thread of the graph that waits for a person,
  with what each interrupt asks and a form to answer it. Agent Inbox requests
  (:func:`~pausegraph.prebuilt.with_human_review`) get the answers their
  config allows (accept, edit, respond, ignore); any other question takes a
  JSON (or plain text) answer. The page works without JavaScript.
* ``GET /api/waiting``, ``GET /api/threads/{id}``, ``POST /api/threads/{id}/runs``
  and ``POST /api/threads/{id}/resume`` do the same for programs.

Answers go through ``Command(resume={interrupt_id: answer})``: an answer the
interrupt's schema refuses, a stale interrupt id or a thread that is busy is
reported (400 or 409) and the thread is unchanged. The server has no
authentication of its own: it listens on 127.0.0.1 unless told otherwise;
put it behind your own access control before exposing it.
"""

from pausegraph.server._app import create_app

__all__ = ["create_app"]
