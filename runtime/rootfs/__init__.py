"""A container's root filesystem: the overlay mount, and the mounts made inside it.

``overlay.py`` runs on the host side (the monitor mounts the overlay where the
host can see it); ``mounts.py`` runs in the container's new mount namespace,
before its process becomes the user's command. Neither knows what a container
is: they take paths and flags.
"""
