"""The web face: the REST API, the console pages, health and metrics (``create_app``).

Like the CLI it only parses input, calls ``posture.operations`` and renders what they
return; it never opens a store session of its own.
"""
