"""A tiny busybox shell for simulated containers: parse (:mod:`.parse`), run (:mod:`.interp`),
and the programs it knows (:mod:`.applets`).

It answers the commands lessons use the way busybox would inside a container
(``hostname``, ``ps``, ``id``, ``ls``, ``cat /etc/os-release``, ``uname -r``,
``ip addr``, ``echo ... > file``, ``rm``, ``kill -TERM 1``...), changes the
container's simulated filesystem, and says "this command is not available in
simulated mode" for a busybox program it does not know. It never runs a real
process and never touches a real file.
"""
