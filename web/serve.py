"""`onggi serve` (placeholder until the web app lands)."""


def command(argv):
    raise SystemExit("onggi serve: not built yet")
