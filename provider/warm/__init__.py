"""Warm start: a per-user fork server that already holds every import.

Terraform launches the provider 3-5 times per command, and importing grpc,
protobuf, httpx and pydantic costs more than everything else a launch does.
So the first launch serves in-process as usual and starts, in the
background, a *warm process* that imports all of it once. Later launches
(the launcher runs ``python -I -S`` and imports only the standard library's
C socket layer) hand it their stdin, stdout and stderr, their environment,
working directory and arguments over a unix socket; it forks a child that
takes them over and serves Terraform exactly as an in-process launch would.

Modules, by who imports them:

- :mod:`.protocol`: the launcher and the server; the standard library's C
  modules only (no ``socket``, ``signal`` or ``json``: each costs milliseconds).
- :mod:`.client`: the launcher's side.
- :mod:`.server`: the fork server (heavy imports are its job).
- :mod:`.child`: what a forked child does before it serves.

The rules it keeps (see the README's "Warm start"): owner only (a 0700
directory, the peer's uid checked both ways); keyed to the installation
(version, Python and the mtimes of the package files and of ``sys.path``);
exits after a few minutes idle; holds none of the launchers' pipes; a launch
that cannot use it serves in-process; a child lives no longer than its
launcher, whose exit code is the child's; ``HUMANITEC_PROVIDER_WARM=0``
switches it off.
"""
