"""Dockerfile builds: text to instructions (``parser``), expansion (``substitution``),
the build context (``context``, ``dockerignore``), the layer cache (``cache``) and
the steps (``builder``, ``copy``, ``run``).

Never: prints, or talks to a registry itself (FROM an image that is not in the
store asks ``runtime.image.registry``). Modules load when used:
``from runtime.build.builder import build``.
"""
