"""-f/--format templates read as Docker's (Go text/template) do, or fail in one line."""
import io

import pytest

from runtime.cli import pslist
from runtime.cli.template import render
from runtime.errors import InvalidArgument

DOC = {"Name": "/web", "State": {"Pid": 42, "Running": True},
       "Config": {"Cmd": ["sh", "-c", "x"], "Env": ["A=1", "B=2"], "Labels": {"b": "2", "a": "1"}},
       "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "10.0.0.2"},
                                        "n1": {"IPAddress": "10.89.0.4"}},
                           "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}}}


@pytest.mark.parametrize("template, expected", [
    # Docker's own documented way to get a container's address
    ("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", "10.0.0.2 10.89.0.4 "),
    ("{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}};{{end}}",
     "bridge=10.0.0.2;n1=10.89.0.4;"),
    ('{{index .Config.Labels "a"}}', "1"),
    ('{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}', "8080"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ("{{with .State}}{{.Pid}}{{end}}", "42"),
    ('{{join .Config.Env ","}}', "A=1,B=2"),
    ("{{.Name | upper}}", "/WEB"),
    ("{{len .Config.Env}}", "2"),
    ("{{.Config.Cmd}}", "[sh -c x]"),                  # Go's %v, not JSON
    ("{{.Config.Labels}}", "map[a:1 b:2]"),
    ("{{range .Config.Env -}} {{.}} {{- end}}", "A=1B=2"),
    ("{{$.Name}}{{range .Config.Env}}{{$.Name}}{{end}}", "/web/web/web"),
    ('{{if eq .State.Pid 42}}yes{{end}}', "yes"),
])
def test_go_template_subset(template, expected):
    assert render(template, DOC) == expected


@pytest.mark.parametrize("template, message", [
    ("{{range .Config.Env}}x", "without {{end}}"),
    ("{{end}}", "unexpected {{end}}"),
    ("{{frob .Name}}", 'function "frob" not defined'),
    ("{{.Name", "unclosed"),
    ('{{template "x"}}', "not supported"),
    ("{{$x}}", "undefined variable"),
    ("{{index .Config.Env 5}}", "out of range"),
])
def test_bad_templates_are_one_line_errors(template, message):
    with pytest.raises(InvalidArgument, match="invalid template") as info:
        render(template, DOC)
    assert message in info.value.one_line() and "\n" not in info.value.one_line()


def test_ps_filters_parse_and_refuse_unknown_keys():
    assert pslist.parse_filters(["status=exited", "name=a", "name=b"]) == {
        "status": ["exited"], "name": ["a", "b"]}
    for bad in (["nope=1"], ["status=exitted"], ["exited=x"], ["name"]):
        with pytest.raises(InvalidArgument):
            pslist.parse_filters(bad)


def _row(**kw):
    base = dict.fromkeys(pslist.HEADERS, "")
    return pslist.Placeholders(base, **kw)


def test_ps_format_table_json_and_plain():
    rows = [_row(ID="abc", Names="web", Status="Up 1 second"), _row(ID="def", Names="db", Status="Created")]
    out = io.StringIO()
    pslist.render(rows, r"table {{.ID}}\t{{.Names}}", out)
    assert out.getvalue().splitlines() == ["CONTAINER ID   NAMES", "abc            web", "def            db"]
    out = io.StringIO()
    pslist.render(rows, "{{.Names}}: {{.Status}}", out)
    assert out.getvalue() == "web: Up 1 second\ndb: Created\n"
    out = io.StringIO()
    pslist.render(rows, "json", out)
    assert '"Names": "web"' in out.getvalue().splitlines()[0]
    with pytest.raises(InvalidArgument, match="no placeholder .Nope"):
        pslist.render(rows, "{{.Nope}}", io.StringIO())
