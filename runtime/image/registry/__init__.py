"""Registries: pull and push images over the OCI Distribution API, and the local registry.

``client`` speaks HTTP to one registry, ``auth`` answers its challenges and keeps
logins, ``pull``/``push`` move whole images between it and the image store, and
``local`` runs Debian's ``docker-registry`` on this machine (the classroom
registry that ``onggi serve`` starts, and the one the tests use).

Never: prints, or keeps anything but blobs, index entries and ``auth.json`` on disk.
Modules load when used: ``from runtime.image.registry.pull import pull``.
"""
