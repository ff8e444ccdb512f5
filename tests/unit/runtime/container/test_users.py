import pytest

from runtime.container.users import User, resolve
from runtime.errors import InvalidArgument

PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n# c\n"
GROUP = "root:x:0:\nwheel:x:10:root,nobody\nnogroup:x:65534:\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "passwd").write_text(PASSWD)
    (tmp_path / "group").write_text(GROUP)
    return str(tmp_path / "passwd"), str(tmp_path / "group")


@pytest.mark.parametrize("spec, expected", [
    ("", User(0, 0, (10,), "/root")),
    ("root", User(0, 0, (10,), "/root")),
    ("nobody", User(65534, 65534, (10,), "/home")),
    ("65534", User(65534, 65534, (10,), "/home")),
    ("1000", User(1000, 0, (), "/")),
    ("1000:10", User(1000, 10, (), "/")),
    ("nobody:wheel", User(65534, 10, (), "/home")),
    ("nobody:500", User(65534, 500, (10,), "/home")),
])
def test_resolve(files, spec, expected):
    assert resolve(spec, *files) == expected


@pytest.mark.parametrize("spec, message", [("ghost", "unable to find user ghost"),
                                           ("root:ghosts", "unable to find group ghosts")])
def test_unknown_names(files, spec, message):
    with pytest.raises(InvalidArgument, match=message):
        resolve(spec, *files)
