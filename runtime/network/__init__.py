"""Docker's network model, for real: bridges, veth pairs, addresses, NAT, published ports.

What each module does (dependencies point down; nothing here imports ``container/``)::

    manager.py    NetworkManager (rt.networks): the network verbs (create, ls, inspect,
                  rm, connect, disconnect, prune) and what a launch asks (validate,
                  plugin_for, release, inspect_container); the only place that changes
                  records, leases, /etc/hosts files and rules together, under one flock
    plugins.py    the `network` launch step: BridgePlugin (bridge|NAME), JoinPlugin (container:NAME)
    endpoint.py   one container on one bridge: the veth pair, its address and route
    rtnl.py       the seven rtnetlink requests the launch makes, with struct (why: see there)
    bridge.py     a network's Linux bridge and its sysctls (pyroute2)
    nft.py        onggi's nftables table: masquerade, isolation, published ports
    ports.py      -p: is a host port free, and holding it while the container runs
    hosts.py      names: each container's /etc/hosts, peers listed on user-defined networks
    ipam.py       which address each container gets (pure) and the leases' shape
    store.py      networks and leases on disk (ONGGI_ROOT/networks)
    topology.py   read_topology(rt): what the kernel shows now, for the web's diagram

Kernel objects carry onggi's names: bridges ``config.bridge_name`` and
``<bridge_prefix>-<id>``, veths ``vethXXXXXXX`` whose alias is
``<bridge_prefix>:<container id>``, the nftables table ``inet <nft_table>``.
Nothing here runs at import time, and pyroute2 (≈120 ms to import) is imported
only by the functions that make or remove bridges, prune, or draw the topology.
"""
