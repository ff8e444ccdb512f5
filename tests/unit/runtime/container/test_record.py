import os

import pytest

from runtime.config import Config
from runtime.container.record import ContainerStore
from runtime.container.spec import ContainerSpec, Process
from runtime.container.state import Status
from runtime.errors import ContainerNotFound, InvalidArgument, NameInUse


@pytest.fixture
def store(tmp_path):
    return ContainerStore(Config(root=tmp_path / "root", run=tmp_path / "run"))


def make(store, name=None):
    cid = store.new_id()
    fields = {"id": cid, "created": "2026-11-28T00:00:00.000000Z", "image": "busybox",
              "image_id": "sha256:" + "0" * 64, "spec": ContainerSpec(image="busybox"),
              "process": Process(args=("sh",), env=(), cwd="/", user="", hostname=cid[:12]),
              "layers": ["/l/1"]}
    return store.create(fields, name=name, oci_config={"ociVersion": "1.0.2"},
                        etc_files={"hosts": "127.0.0.1 localhost\n", "hostname": "x\n"})


def test_create_writes_the_record_and_init_layer(store):
    r = make(store, "web")
    assert (r.dir / "container.json").exists() and (r.dir / "config.json").exists()
    assert (r.init / "etc/hosts").exists() and (r.init / "etc/hosts").stat().st_size == 0
    assert (r.dir / "hosts").read_text().startswith("127.0.0.1")
    assert r.lower_dirs == ["/l/1", str(r.init)]
    assert r.load_state().status is Status.CREATED
    assert os.readlink(store.config.names_dir / "web") == r.id


def test_get_by_name_id_and_prefix(store):
    r = make(store, "web")
    assert store.get("web").id == r.id
    assert store.get("/web").id == r.id
    assert store.get(r.id).id == r.id
    assert store.get(r.id[:6]).id == r.id
    with pytest.raises(ContainerNotFound, match="no such container: nope"):
        store.get("nope")


def test_ambiguous_prefix(store):
    a, b = make(store), make(store)
    common = os.path.commonprefix([a.id, b.id])
    with pytest.raises((InvalidArgument, ContainerNotFound)):
        store.get(common or "zz")


def test_names_are_taken_once_and_freed_on_remove(store):
    r = make(store, "web")
    with pytest.raises(NameInUse):
        make(store, "web")
    assert len(store.ids()) == 1            # the failed create left no directory
    store.remove(r)
    assert store.ids() == [] and not (store.config.names_dir / "web").exists()
    make(store, "web")


@pytest.mark.parametrize("name", ["-bad", "sp ace", "sl/ash", "é"])
def test_bad_names(store, name):
    with pytest.raises(InvalidArgument):
        make(store, name)


def test_random_names_look_like_dockers(store):
    r = make(store)
    adjective, _, surname = r.name.partition("_")
    assert adjective and surname


def test_running_without_a_monitor_is_reported_exited(store):
    r = make(store)
    state = r.load_state()
    state.status = Status.RUNNING
    r.save_state(state)
    current = r.current_state()
    assert current.status is Status.EXITED and current.exit_code == 255 and "monitor" in current.error


def test_remove_frees_the_name_at_once_and_can_leave_the_files_for_later(store):
    r = make(store, "web")
    (r.upper / "big").write_text("x" * 1000)
    trash = store.remove(r, purge=False)
    assert not r.dir.exists() and store.ids() == []          # gone for everyone, one rename
    assert trash == store.config.trash_dir / r.id and (trash / "upper" / "big").exists()
    make(store, "web")                                       # the name is free already
    store.purge(trash)
    assert not trash.exists()


def test_remove_purges_by_default_and_tolerates_a_missing_directory(store):
    r = make(store)
    store.remove(r)
    assert not (store.config.trash_dir / r.id).exists() and not r.dir.exists()
    assert store.remove(r, purge=False) is None              # nothing left to move
